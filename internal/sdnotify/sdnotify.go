// Package sdnotify speaks systemd's service notification protocol: state lines
// such as READY=1 sent as one datagram to the unix socket named by
// $NOTIFY_SOCKET (see sd_notify(3)).
//
// It is written here rather than imported because the protocol is one sendmsg
// of a few bytes and a supervisor integration is exactly where a sidecar should
// carry no dependency it cannot read in a minute. Everything is a no-op when
// the process was not started by a notify-aware supervisor ($NOTIFY_SOCKET
// unset), so callers never need to know whether systemd is present.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Notifier sends state lines to the supervisor's notification socket. A nil
// *Notifier is valid and sends nothing: that is the "not under systemd" case.
type Notifier struct {
	addr *net.UnixAddr
}

// New returns a notifier for the socket named by $NOTIFY_SOCKET as seen through
// getenv, or nil when the variable is unset or empty. A name starting with '@'
// is a socket in the abstract namespace (the '@' stands for the leading NUL
// byte); anything else must be an absolute path. Other address families that
// newer systemd versions accept (vsock:) are refused with an error, so a
// misconfiguration is reported instead of silently never becoming ready.
func New(getenv func(string) string) (*Notifier, error) {
	name := getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil, nil
	}
	if name[0] != '@' && name[0] != '/' {
		return nil, fmt.Errorf("sdnotify: NOTIFY_SOCKET %q: only unix socket paths and @abstract names are supported", name)
	}
	// The Go runtime maps a leading '@' to the NUL byte of an abstract address
	// on Linux, which is exactly the convention systemd uses in the variable.
	return &Notifier{addr: &net.UnixAddr{Name: name, Net: "unixgram"}}, nil
}

// Socket returns the socket name the notifier sends to ("" for nil).
func (n *Notifier) Socket() string {
	if n == nil {
		return ""
	}
	return n.addr.Name
}

// Send sends one datagram holding the given assignments, one per line, e.g.
// Send("READY=1", "STATUS=following 3 files"). The supervisor reads a whole
// datagram as one notification, so related assignments belong in one call.
func (n *Notifier) Send(state ...string) error {
	if n == nil || len(state) == 0 {
		return nil
	}
	for _, s := range state {
		if !strings.Contains(s, "=") {
			return fmt.Errorf("sdnotify: %q is not a VAR=value assignment", s)
		}
	}
	// A fresh socket per message, as sd_notify does: the supervisor may recreate
	// its socket (daemon-reexec), and a long-lived socket would keep sending
	// into the old one.
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sdnotify: connect to %s: %w", n.addr.Name, err)
	}
	defer c.Close()
	// The supervisor never blocks us for long, but a full receive queue on a
	// wedged supervisor must not hang the caller's shutdown path.
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	msg := strings.Join(state, "\n")
	nw, err := c.Write([]byte(msg))
	if err != nil {
		return fmt.Errorf("sdnotify: send to %s: %w", n.addr.Name, err)
	}
	if nw != len(msg) {
		return fmt.Errorf("sdnotify: short write to %s (%d of %d bytes)", n.addr.Name, nw, len(msg))
	}
	return nil
}

// Ready tells the supervisor that start-up is complete (Type=notify services
// are "activating" until then, and units ordered after them wait for it).
func (n *Notifier) Ready() error { return n.Send("READY=1") }

// Stopping tells the supervisor that shutdown has begun, so a slow flush is not
// mistaken for a hang and no restart is scheduled for an orderly stop.
func (n *Notifier) Stopping() error { return n.Send("STOPPING=1") }

// Watchdog resets the supervisor's watchdog timer (WatchdogSec=).
func (n *Notifier) Watchdog() error { return n.Send("WATCHDOG=1") }

// Status sets the one-line free-form status shown by `systemctl status`. Line
// breaks would start a new assignment in the datagram, so they are replaced.
func (n *Notifier) Status(text string) error {
	return n.Send("STATUS=" + oneLine(text))
}

func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

// ErrWatchdogOtherPID reports that $WATCHDOG_USEC was meant for another process
// (a parent that exec'd us without clearing it, or a child that inherited it).
var ErrWatchdogOtherPID = errors.New("sdnotify: WATCHDOG_PID names another process")

// WatchdogInterval returns the supervisor's watchdog timeout from
// $WATCHDOG_USEC, or 0 when no watchdog is enabled for this process. When
// $WATCHDOG_PID is set it must equal pid, otherwise the variables were
// inherited from another process and 0 is returned with ErrWatchdogOtherPID.
// Callers should ping at half the returned interval, which leaves a whole half
// interval for a ping delayed by a busy machine.
func WatchdogInterval(getenv func(string) string, pid int) (time.Duration, error) {
	us := getenv("WATCHDOG_USEC")
	if us == "" {
		return 0, nil
	}
	if p := getenv("WATCHDOG_PID"); p != "" {
		wp, err := strconv.Atoi(p)
		if err != nil || wp <= 0 {
			return 0, fmt.Errorf("sdnotify: WATCHDOG_PID %q is not a pid", p)
		}
		if wp != pid {
			return 0, ErrWatchdogOtherPID
		}
	}
	v, err := strconv.ParseUint(us, 10, 64)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("sdnotify: WATCHDOG_USEC %q is not a positive number of microseconds", us)
	}
	if v > uint64((1<<63-1)/int64(time.Microsecond)) {
		return 0, fmt.Errorf("sdnotify: WATCHDOG_USEC %q is out of range", us)
	}
	return time.Duration(v) * time.Microsecond, nil
}
