package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The HTTP side shows an audit trail: commands, outputs, paths. It must not become a
// way to change that trail, to run script in the operator's browser through a
// command the agent typed, or to exhaust the sidecar. Hence: GET and HEAD only, no
// request bodies, a strict Content-Security-Policy (the one script is a file, styles
// are a file, nothing inline), every value escaped by html/template, bounded queries,
// a per-client rate limit, and a token when the port is reachable from elsewhere.

const (
	contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

	maxQueryBytes = 4096
	maxPathBytes  = 2048

	cookieName  = "clawtrail_session"
	sessionTTL  = 12 * time.Hour
	maxSessions = 256
	maxClients  = 4096
)

// guard wraps every route with the rules above, in the order that refuses cheaply
// first.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			s.fail(w, r, http.StatusMethodNotAllowed, "this server is read-only: only GET and HEAD")
			return
		}
		if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
			s.fail(w, r, http.StatusRequestEntityTooLarge, "requests to this server carry no body")
			return
		}
		if len(r.URL.RawQuery) > maxQueryBytes || len(r.URL.EscapedPath()) > maxPathBytes {
			s.fail(w, r, http.StatusRequestURITooLong, fmt.Sprintf("the URL is too long (query at most %d bytes)", maxQueryBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 0)
		if !isProbe(r.URL.Path) && !s.limiter.allow(clientAddr(r)) {
			h.Set("Retry-After", "1")
			s.fail(w, r, http.StatusTooManyRequests, "too many requests from this address; slow down")
			return
		}
		if !s.auth.public(r.URL.Path) && !s.auth.ok(r) {
			h.Set("WWW-Authenticate", `Bearer realm="clawtrail"`)
			s.fail(w, r, http.StatusUnauthorized, "this clawtrail needs a token: send \"Authorization: Bearer <token>\", "+
				"or open the one-time login link that `clawtrail run` printed when it started")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isProbe names the endpoints supervisors poll; they are cheap and must not be
// starved by the rate limit.
func isProbe(path string) bool { return path == "/healthz" || path == "/readyz" }

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// auth checks the bearer token or a session cookie, and hands out the one-time login
// links that set such a cookie, so a browser never needs the token in its URL bar
// or history.
type auth struct {
	token []byte
	now   func() time.Time

	mu       sync.Mutex
	code     string               // the current one-time login code
	sessions map[string]time.Time // cookie value -> expiry
}

func newAuth(token string, now func() time.Time) (*auth, error) {
	a := &auth{token: []byte(token), now: now, sessions: map[string]time.Time{}}
	if token != "" {
		code, err := randomToken()
		if err != nil {
			return nil, err
		}
		a.code = code
	}
	return a, nil
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (a *auth) enabled() bool { return len(a.token) > 0 }

func (a *auth) loginPath() string {
	if !a.enabled() {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return "/login?t=" + a.code
}

// public names what needs no token: the login link itself and the stylesheet and
// script (so the refusal page renders).
func (a *auth) public(path string) bool {
	return !a.enabled() || path == "/login" || strings.HasPrefix(path, "/static/")
}

func (a *auth) ok(r *http.Request) bool {
	if !a.enabled() {
		return true
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") &&
		subtle.ConstantTimeCompare([]byte(h[7:]), a.token) == 1 {
		return true
	}
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.sessions[c.Value]
	if ok && a.now().After(exp) {
		delete(a.sessions, c.Value)
		return false
	}
	return ok
}

// login spends a one-time code: on success it returns a new session's cookie value
// and the next login path.
func (a *auth) login(code string) (session, next string, ok bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.enabled() || code == "" || subtle.ConstantTimeCompare([]byte(code), []byte(a.code)) != 1 {
		return "", "", false, nil
	}
	if a.code, err = randomToken(); err != nil {
		return "", "", false, err
	}
	if session, err = randomToken(); err != nil {
		return "", "", false, err
	}
	now := a.now()
	for v, exp := range a.sessions {
		if now.After(exp) {
			delete(a.sessions, v)
		}
	}
	if len(a.sessions) >= maxSessions {
		// Drop the session closest to expiry rather than refuse the operator.
		var oldest string
		for v, exp := range a.sessions {
			if oldest == "" || exp.Before(a.sessions[oldest]) {
				oldest = v
			}
		}
		delete(a.sessions, oldest)
	}
	a.sessions[session] = now.Add(sessionTTL)
	return session, "/login?t=" + a.code, true, nil
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !s.auth.enabled() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	session, next, ok, err := s.auth.login(r.URL.Query().Get("t"))
	if err != nil {
		s.log.Error("login", "err", err)
		s.fail(w, r, http.StatusInternalServerError, "could not start a session")
		return
	}
	if !ok {
		s.fail(w, r, http.StatusUnauthorized, "this login link is spent or wrong: each link works once. "+
			"The newest one is in clawtrail's log; a bearer token works too.")
		return
	}
	s.log.Info("one-time login link used; the next one is", "path", next)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: session, Path: "/", MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// limiter is a token bucket per client address.
type limiter struct {
	rate, burst float64
	now         func() time.Time

	mu      sync.Mutex
	clients map[string]*tokens
}

type tokens struct {
	n    float64
	last time.Time
}

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: float64(burst), now: now, clients: map[string]*tokens{}}
}

func (l *limiter) allow(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	t := l.clients[client]
	if t == nil {
		if len(l.clients) >= maxClients {
			l.sweep(now)
			if len(l.clients) >= maxClients {
				return false
			}
		}
		t = &tokens{n: l.burst, last: now}
		l.clients[client] = t
	}
	t.n = min(l.burst, t.n+now.Sub(t.last).Seconds()*l.rate)
	t.last = now
	if t.n < 1 {
		return false
	}
	t.n--
	return true
}

// sweep forgets clients whose bucket has refilled: they are as good as new.
func (l *limiter) sweep(now time.Time) {
	for c, t := range l.clients {
		if t.n+now.Sub(t.last).Seconds()*l.rate >= l.burst {
			delete(l.clients, c)
		}
	}
}

// streamSlots bounds concurrent event streams, in all and per client, since each
// holds a connection open for as long as the page is.
type streamSlots struct {
	max, perClient int

	mu    sync.Mutex
	total int
	by    map[string]int
}

func newStreamSlots(n int) *streamSlots {
	return &streamSlots{max: n, perClient: max(1, n/4), by: map[string]int{}}
}

func (s *streamSlots) acquire(client string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total >= s.max || s.by[client] >= s.perClient {
		return false
	}
	s.total++
	s.by[client]++
	return true
}

func (s *streamSlots) release(client string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.by[client]--; s.by[client] <= 0 {
		delete(s.by, client)
	}
}
