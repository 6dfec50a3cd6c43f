package sdnotify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// datagram is one notification as the supervisor received it.
type datagram struct {
	at    time.Time
	lines []string
}

// listen plays systemd: a real unix datagram socket that records what arrives.
func listen(t *testing.T, name string) <-chan datagram {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	ch := make(chan datagram, 1024)
	go func() {
		defer close(ch)
		buf := make([]byte, 4096)
		for {
			n, _, err := c.ReadFromUnix(buf)
			if err != nil {
				return
			}
			ch <- datagram{time.Now(), strings.Split(string(buf[:n]), "\n")}
		}
	}()
	return ch
}

func recv(t *testing.T, ch <-chan datagram) datagram {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no datagram within 5s")
		return datagram{}
	}
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func socketPath(t *testing.T) string {
	// t.TempDir can exceed the 108-byte sun_path limit on some CI machines.
	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "notify.sock")
}

func TestUnsetIsNoop(t *testing.T) {
	n, err := New(env(nil))
	if err != nil || n != nil {
		t.Fatalf("New without NOTIFY_SOCKET = %v, %v; want nil, nil", n, err)
	}
	for _, f := range []func() error{n.Ready, n.Stopping, n.Watchdog, func() error { return n.Status("x") }} {
		if err := f(); err != nil {
			t.Errorf("nil notifier: %v", err)
		}
	}
	done := make(chan struct{})
	go func() {
		n.Supervise(context.Background(), time.Second, func() Health { return Health{} }, nil)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Supervise on a nil notifier did not return at once")
	}
}

func TestRejectsUnsupportedAddresses(t *testing.T) {
	for _, v := range []string{"relative.sock", "vsock:2:1234"} {
		if _, err := New(env(map[string]string{"NOTIFY_SOCKET": v})); err == nil {
			t.Errorf("NOTIFY_SOCKET=%q accepted", v)
		}
	}
	if err := (&Notifier{}).Send("READY"); err == nil {
		t.Error("a line without '=' was sent")
	}
}

func TestMessagesOnPathSocket(t *testing.T) {
	path := socketPath(t)
	ch := listen(t, path)
	n, err := New(env(map[string]string{"NOTIFY_SOCKET": path}))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		send func() error
		want []string
	}{
		{n.Ready, []string{"READY=1"}},
		{n.Watchdog, []string{"WATCHDOG=1"}},
		{func() error { return n.Status("following 3 files\nforged=1") }, []string{"STATUS=following 3 files forged=1"}},
		{func() error { return n.Send("READY=1", "STATUS=ok") }, []string{"READY=1", "STATUS=ok"}},
		{n.Stopping, []string{"STOPPING=1"}},
	}
	for i, s := range steps {
		if err := s.send(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := recv(t, ch); !slices.Equal(got.lines, s.want) {
			t.Errorf("step %d: got %q, want %q", i, got.lines, s.want)
		}
	}
}

func TestAbstractSocket(t *testing.T) {
	name := fmt.Sprintf("@clawtrail-sdnotify-test-%d-%d", os.Getpid(), rand.Uint64())
	ch := listen(t, name)
	n, err := New(env(map[string]string{"NOTIFY_SOCKET": name}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Ready(); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, ch); !slices.Equal(got.lines, []string{"READY=1"}) {
		t.Errorf("got %q", got.lines)
	}
	// Nothing may have been created on disk: '@' means the abstract namespace.
	if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file %q exists: the '@' was taken literally", name)
	}
}

func TestSendWithoutListenerFails(t *testing.T) {
	n, _ := New(env(map[string]string{"NOTIFY_SOCKET": socketPath(t)}))
	if err := n.Ready(); err == nil {
		t.Error("send to a socket nobody listens on succeeded")
	}
}

func TestWatchdogInterval(t *testing.T) {
	pid := 4242
	for _, c := range []struct {
		usec, wpid string
		want       time.Duration
		err        bool
	}{
		{"", "", 0, false},
		{"30000000", "", 30 * time.Second, false},
		{"30000000", "4242", 30 * time.Second, false},
		{"500", "", 500 * time.Microsecond, false},
		{"30000000", "1", 0, true},
		{"0", "", 0, true},
		{"-5", "", 0, true},
		{"30s", "", 0, true},
		{"30000000", "x", 0, true},
		{"18446744073709551615", "", 0, true},
	} {
		got, err := WatchdogInterval(env(map[string]string{"WATCHDOG_USEC": c.usec, "WATCHDOG_PID": c.wpid}), pid)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: got %v, %v; want %v, error %v", c.usec, c.wpid, got, err, c.want, c.err)
		}
	}
	if _, err := WatchdogInterval(env(map[string]string{"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "7"}), pid); !errors.Is(err, ErrWatchdogOtherPID) {
		t.Errorf("foreign WATCHDOG_PID: %v, want ErrWatchdogOtherPID", err)
	}
}

// TestSuperviseProtocol runs the whole exchange against a real socket: READY=1 once
// the service is ready, WATCHDOG=1 at half the configured interval while it is
// healthy, no pings while it is not (so systemd's watchdog can restart it), pings
// again after recovery, and STOPPING=1 as the last message when the context ends.
func TestSuperviseProtocol(t *testing.T) {
	path := socketPath(t)
	ch := listen(t, path)
	const interval = 400 * time.Millisecond // WatchdogSec=0.4: pings every 200 ms
	n, err := New(env(map[string]string{"NOTIFY_SOCKET": path}))
	if err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"WATCHDOG_USEC": "400000", "WATCHDOG_PID": fmt.Sprint(os.Getpid())})
	iv, err := WatchdogInterval(getenv, os.Getpid())
	if err != nil || iv != interval {
		t.Fatalf("WatchdogInterval = %v, %v", iv, err)
	}

	var phase atomic.Int32 // 0 starting, 1 ready and healthy, 2 unhealthy, 3 healthy again
	probe := func() Health {
		switch phase.Load() {
		case 0:
			return Health{Healthy: true, Status: "catching up"}
		case 2:
			return Health{Ready: true, Status: "ledger not writable"}
		default:
			return Health{Ready: true, Healthy: true, Status: "following"}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Supervise(ctx, iv, probe, func(err error) { t.Error(err) }); close(done) }()

	type mark struct {
		phase int32
		at    time.Time
	}
	var marks []mark
	step := func(p int32, d time.Duration) {
		time.Sleep(d)
		marks = append(marks, mark{p, time.Now()})
		phase.Store(p)
	}
	start := time.Now()
	step(1, 150*time.Millisecond)
	step(2, 1600*time.Millisecond)
	step(3, 1000*time.Millisecond)
	time.Sleep(1200 * time.Millisecond)
	cancel()
	<-done
	end := time.Now()

	// Supervise has returned, but the reader may not have taken the last datagrams
	// off the socket yet: read up to STOPPING=1, then look briefly for strays.
	var got []datagram
	for stopped := false; !stopped; {
		d := recv(t, ch)
		got = append(got, d)
		stopped = slices.Contains(d.lines, "STOPPING=1")
	}
	select {
	case d := <-ch:
		got = append(got, d)
	case <-time.After(100 * time.Millisecond):
	}
	phaseAt := func(at time.Time) int32 {
		p := int32(0)
		for _, m := range marks {
			if !at.Before(m.at) {
				p = m.phase
			}
		}
		return p
	}
	var readies, stops int
	var pings []time.Time
	for i, d := range got {
		for _, l := range d.lines {
			switch l {
			case "READY=1":
				readies++
				if phaseAt(d.at) == 0 {
					t.Errorf("READY=1 at %v, before the service was ready", d.at.Sub(start))
				}
			case "STOPPING=1":
				stops++
				if i != len(got)-1 {
					t.Errorf("STOPPING=1 is message %d of %d; it must be the last", i+1, len(got))
				}
			case "WATCHDOG=1":
				pings = append(pings, d.at)
			}
		}
	}
	if readies != 1 || stops != 1 {
		t.Fatalf("READY=1 sent %d times, STOPPING=1 %d times; want 1 and 1 (messages: %v)", readies, stops, got)
	}

	// While unhealthy nothing may reset the watchdog, except one ping whose probe
	// ran just before the switch and arrives just after it.
	var healthyGaps []time.Duration
	var whileUnhealthy []time.Duration
	for i, p := range pings {
		if phaseAt(p) == 2 {
			whileUnhealthy = append(whileUnhealthy, p.Sub(marks[1].at))
		}
		if i > 0 && phaseAt(pings[i-1]) != 2 && phaseAt(p) == phaseAt(pings[i-1]) {
			healthyGaps = append(healthyGaps, p.Sub(pings[i-1]))
		}
	}
	if len(whileUnhealthy) > 1 || len(whileUnhealthy) == 1 && whileUnhealthy[0] > interval/2 {
		t.Errorf("WATCHDOG=1 while unhealthy, this long after it became so: %v", whileUnhealthy)
	}
	if len(pings) < 10 {
		t.Fatalf("only %d pings in %v with a %v interval", len(pings), end.Sub(start), interval)
	}
	// The pacing is the code's; a stall of the whole process (or of the reader
	// here) is the machine's. So the typical gap must be half the interval, and
	// only a few gaps, on a loaded CI machine, may reach the interval: a loop that
	// skipped pings or paced them at the full interval fails either way.
	slices.Sort(healthyGaps)
	median := healthyGaps[len(healthyGaps)/2]
	if median < interval/2*8/10 || median > interval/2*3/2 {
		t.Errorf("median ping period %v, want about %v (half of WATCHDOG_USEC); gaps %v", median, interval/2, healthyGaps)
	}
	late := 0
	for _, g := range healthyGaps {
		if g >= interval {
			late++
		}
	}
	if late > len(healthyGaps)/5 {
		t.Errorf("%d of %d gaps while healthy reached the interval %v: %v", late, len(healthyGaps), interval, healthyGaps)
	} else if late > 0 {
		t.Logf("%d gaps reached the interval (a loaded machine): %v", late, healthyGaps)
	}
	// Recovery resumes pings within one interval: the unhealthy service is
	// looked at again at least that often.
	var firstAfter time.Time
	for _, p := range pings {
		if p.After(marks[2].at) {
			firstAfter = p
			break
		}
	}
	if firstAfter.IsZero() || firstAfter.Sub(marks[2].at) >= interval {
		t.Errorf("first ping after recovery %v after it; want within %v", firstAfter.Sub(marks[2].at), interval)
	}
	t.Logf("%d messages, %d pings, median healthy period %v", len(got), len(pings), median)
}
