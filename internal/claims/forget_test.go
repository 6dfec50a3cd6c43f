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

// A command run again shares the analysis of its first run: a daemon keeps thousands
// of sessions' histories, and most commands recur (git status, the test runner).
func TestRepeatedCommandsShareTheirAnalysis(t *testing.T) {
	d := New()
	d.Executed("cd /srv/app && npm run test -- --ci", "nonzero_exit", "")
	allocs := testing.AllocsPerRun(200, func() {
		d.Executed("cd /srv/app && npm run test -- --ci", "succeeded", "")
	})
	// The canonical form is still built to look it up; segments are not.
	if allocs > 2 {
		t.Fatalf("%.1f allocations per repeated command; want at most 2", allocs)
	}
	fresh := testing.AllocsPerRun(50, func() { New().Executed("cd /srv/app && npm run test -- --ci", "succeeded", "") })
	if fresh <= allocs {
		t.Fatalf("a first run allocates %.1f times, a repeat %.1f: nothing is shared", fresh, allocs)
	}
	if got := d.Check("I ran `npm run test -- --ci` and all tests pass.", nil); len(got) != 0 {
		t.Fatalf("claims %+v after the repeated, successful run; want none", got)
	}
}
