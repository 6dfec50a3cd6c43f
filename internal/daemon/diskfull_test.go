package daemon_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A full disk must leave no torn record, turn the daemon unhealthy, and be caught up
// by itself once space returns. A real tmpfs of a few KiB plays the full disk.
func TestDiskFullThenRecovers(t *testing.T) {
	e := newEnv(t)
	mnt := filepath.Join(t.TempDir(), "small")
	os.MkdirAll(mnt, 0o755)
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=16k"); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v", err)
	}
	defer syscall.Unmount(mnt, syscall.MNT_DETACH)
	e.ledger = filepath.Join(mnt, "governance.jsonl")
	e.start()

	var want []string
	big := strings.Repeat("x", 3000)
	for i := range 12 {
		id := fmt.Sprintf("c%02d", i)
		want = append(want, "s1/"+id+":succeeded")
		e.appendLines("s1.jsonl", call(fmt.Sprintf("a%02d", i), id, "cat big "+big, t0), result(fmt.Sprintf("r%02d", i), id, 0))
	}
	e.waitFor("unhealthy on a full disk", func() bool { return !e.d.Status().Healthy })
	if st := e.d.Status(); !strings.Contains(st.Error, "no space") {
		t.Fatalf("status error = %q, want it to say the disk is full", st.Error)
	}
	e.records() // fails the test if the ledger holds a torn or broken record
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_REMOUNT, "size=4m"); err != nil {
		t.Fatalf("remount larger: %v", err)
	}
	e.waitFor("healthy again", func() bool { return e.d.Status().Healthy })
	e.waitExecs(strings.Join(want, " "))
}
