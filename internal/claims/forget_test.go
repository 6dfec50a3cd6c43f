package claims

import "testing"

// A detector that was made to forget its outputs (to bound memory across many
// sessions) no longer calls quoted output invented: the quote may come from what it
// forgot. Everything else it still checks.
func TestForgetOutputs(t *testing.T) {
	prose := "I checked the pods with `kubectl get pods -n prod`:\n\n```\nNAME        READY   STATUS    RESTARTS\nweb-7c9f    1/1     Running   0\napi-5d2b    1/1     Running   0\n```\n\nEverything is healthy."
	run := func(forget bool) ([]Claim, int) {
		d := New()
		d.Executed("kubectl get pods -n prod", "succeeded", "NAME        READY   STATUS             RESTARTS\nweb-7c9f    0/1     CrashLoopBackOff   12\napi-5d2b    1/1     Running            0\n")
		kept := d.Retained()
		if forget {
			d.ForgetOutputs()
		}
		return d.Check(prose, nil), kept
	}
	got, kept := run(false)
	if len(got) != 1 || got[0].Reason != reasonContradicts || kept == 0 {
		t.Fatalf("before forgetting: claims %+v, kept %d bytes; want one contradicts_result for the invented status", got, kept)
	}
	if got, _ := run(true); len(got) != 0 {
		t.Fatalf("after forgetting: claims %+v; want none", got)
	}
	d := New()
	d.Executed("ls", "succeeded", "a\nb\n")
	d.ForgetOutputs()
	if d.Retained() != 0 {
		t.Fatalf("Retained after ForgetOutputs = %d", d.Retained())
	}
	if got := d.Check("I ran `make deploy` and it finished without errors.", nil); len(got) != 1 || got[0].Reason != reasonNoCall {
		t.Fatalf("no_call after forgetting outputs: %+v; want one", got)
	}
}
