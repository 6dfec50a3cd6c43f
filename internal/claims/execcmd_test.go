package claims

import "testing"

// newExecCmd works out a command's kinds without splitting it when
// mayNameRunner rules a runner out; the kinds must be the ones the full
// analysis gives.
func TestExecCmdCategories(t *testing.T) {
	cmds := []string{
		"make", "make test", "cd x && make", `bash -c "make"`, `sh -c 'just build'`, `ma\ke`, `"ma"ke`,
		"./scripts/check.sh", "bash ./run.sh --fast", "python -m invoke test", "npx task lint", "uv run task",
		"/usr/bin/make", "env FOO=1 make", "timeout 60 ./ci.sh", "go test ./...", "npm run build", "pytest -q",
	}
	set := loadLabelled(t)
	for _, l := range set {
		for _, h := range l.History {
			cmds = append(cmds, h.Command)
		}
		cmds = append(cmds, l.Calls...)
	}
	c, _, _ := sessionExecs(500)
	cmds = append(cmds, c...)
	for _, cmd := range cmds {
		canon := canonCommand(cmd)
		if canon == "" {
			continue
		}
		full := newCmdInfo(cmd)
		if got, want := newExecCmd(canon).cats, commandCategories(&full); got != want {
			t.Errorf("%q: categories %b, want %b", cmd, got, want)
		}
	}
}

func FuzzExecCmdCategories(f *testing.F) {
	for _, s := range []string{"make", `bash -c "just x"`, "a.sh", `ta\sk`, "cd a; invoke b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		canon := canonCommand(cmd)
		if canon == "" {
			return
		}
		full := newCmdInfo(cmd)
		if got, want := newExecCmd(canon).cats, commandCategories(&full); got != want {
			t.Errorf("%q: categories %b, want %b", cmd, got, want)
		}
	})
}
