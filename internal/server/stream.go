package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The live stream: server-sent events, one per execution or claim as it lands in the
// ledger, and one each time an exec_update changes an execution (carrying the
// execution's new state; the event id is the update's seq). A client that reconnects
// sends Last-Event-ID and gets what it missed, or a "reset" event when that is more
// than the server keeps.

const (
	heartbeatEvery = 15 * time.Second
	streamWrite    = 10 * time.Second // each write must finish within this
)

func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseFilter(q, "agent", "session", "outcome", "verdict", "text", "kind")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	after := int64(-1)
	from := r.Header.Get("Last-Event-ID")
	if from == "" {
		if from, err = param(q, "after"); err != nil {
			s.failErr(w, r, err)
			return
		}
	}
	if from != "" {
		if after, err = strconv.ParseInt(from, 10, 64); err != nil || after < 0 {
			s.fail(w, r, http.StatusBadRequest, "after (or Last-Event-ID) must be a record seq")
			return
		}
	}
	client := clientAddr(r)
	if !s.streams.acquire(client) {
		w.Header().Set("Retry-After", "10")
		s.fail(w, r, http.StatusTooManyRequests, "too many live streams open; close a tab")
		return
	}
	defer s.streams.release(client)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	rc := http.NewResponseController(w)
	send := func(format string, args ...any) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWrite)) // not every writer supports it
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 2000\n: clawtrail live stream\n\n") {
		return
	}

	x := s.idx
	x.mu.RLock()
	gen := x.gen
	next := x.events
	lost := after >= 0 && after < x.ringLost
	if after >= 0 {
		// Replay the retained events after the client's last one.
		for next > 0 && next > x.events-ringSize && x.ring[(next-1)%ringSize].seq > after {
			next--
		}
	}
	x.mu.RUnlock()
	if lost {
		send("event: reset\ndata: {}\n\n")
		return
	}
	heartbeat := time.NewTicker(heartbeatEvery)
	defer heartbeat.Stop()
	for {
		type out struct {
			seq int64
			h   hit
		}
		var batch []out
		x.mu.RLock()
		if x.gen != gen || next < x.events-ringSize {
			// The ledger was read again from the start, or this client fell behind.
			x.mu.RUnlock()
			send("event: reset\ndata: {}\n\n")
			return
		}
		m := x.compile(f, kExec, kClaim)
		seen := map[int64]int{}
		for ; next < x.events; next++ {
			ev := x.ring[next%ringSize]
			if ev.abs < x.lo || m.none {
				continue
			}
			r := x.rowAt(ev.abs)
			if !m.match(r, x.blockOf(ev.abs)) {
				continue
			}
			if i, ok := seen[ev.abs]; ok {
				// Several changes to one row in a batch: its state now says it all.
				batch[i].seq = ev.seq
				continue
			}
			seen[ev.abs] = len(batch)
			batch = append(batch, out{ev.seq, x.hitOf(ev.abs, r)})
		}
		file, changed := x.f, x.changed
		x.mu.RUnlock()
		for _, o := range batch {
			e, _, err := execution(file, o.h, false)
			if err != nil {
				send("event: reset\ndata: {}\n\n")
				return
			}
			data, err := json.Marshal(e)
			if err != nil || !send("id: %d\nevent: exec\ndata: %s\n\n", o.seq, data) {
				return
			}
		}
		select {
		case <-changed:
		case <-heartbeat.C:
			if !send(": ping\n\n") {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}
