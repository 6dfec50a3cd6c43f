package corpus

import (
	"strconv"
	"strings"
)

type projectKind uint8

const (
	kindAny projectKind = iota
	kindGo
	kindNode
	kindPython
	kindInfra
)

type project struct {
	dir    string // relative to the workspace
	kind   projectKind
	module string
}

var projects = []project{
	{"acme-api", kindGo, "github.com/acme/api"},
	{"acme-web", kindNode, "acme-web"},
	{"acme-ml", kindPython, "acme_ml"},
	{"infra", kindInfra, "infra"},
}

// command is one kind of shell command with the output it typically prints.
// out appends about size bytes of successful output to s.out; fail appends a
// failure's output and returns its exit code.
type command struct {
	bin  string
	kind projectKind
	slow bool
	text func(s *session, p *project) string
	out  func(s *session, p *project, size int)
	fail func(s *session, p *project) int
}

// --- output helpers --------------------------------------------------------

func (s *session) put(str string) { s.out = append(s.out, str...) }

func (s *session) putInt(lo, hi int) { s.out = strconv.AppendInt(s.out, int64(s.between(lo, hi)), 10) }

func (s *session) putHex(n int) { s.out = appendRand(s.out, s.rng, hexDigits, n) }

func (s *session) putPick(xs []string) { s.out = append(s.out, pick(s, xs)...) }

// fill appends lines until size bytes were added; at least one line, no
// trailing newline (OpenClaw trims aggregated output).
func (s *session) fill(size int, line func()) {
	start := len(s.out)
	for first := true; first || len(s.out)-start < size; first = false {
		if !first {
			s.out = append(s.out, '\n')
		}
		line()
	}
}

func (s *session) putClock() {
	t := s.now.Add(-timeDuration(s.between(0, 3600_000)))
	s.out = t.AppendFormat(s.out, "2006-01-02 15:04:05")
}

var (
	goPkgs     = []string{"internal/api", "internal/api/middleware", "internal/auth", "internal/store", "internal/orders", "internal/billing", "internal/search", "cmd/api", "internal/queue", "internal/config"}
	goFiles    = []string{"handler.go", "orders.go", "session.go", "store.go", "router.go", "config.go", "client.go", "worker.go", "retry.go", "tenant.go"}
	jsFiles    = []string{"src/cart.ts", "src/checkout.ts", "src/search/query.ts", "src/auth/session.ts", "src/orders/create.ts", "src/orders/list.ts", "src/profile.tsx", "src/i18n.ts", "src/api/client.ts", "src/components/Button.tsx"}
	pyFiles    = []string{"acme_ml/train.py", "acme_ml/features.py", "acme_ml/data/loader.py", "acme_ml/eval.py", "scripts/build_index.py", "scripts/export.py", "tests/test_features.py", "tests/test_loader.py"}
	subjects   = []string{"orders: require tenant header on create", "store: add orders.tenant_id index", "api: return 409 on duplicate idempotency key", "deps: bump pgx to v5.7.2", "ci: run go vet in the lint job", "docs: document the tenant header", "search: cache facet counts", "auth: rotate session keys daily", "billing: fix rounding in invoice totals", "web: lazy-load the checkout bundle", "ml: pin numpy below 2.1", "infra: raise api memory limit to 1Gi", "queue: retry with jitter", "fix flaky TestHandleCreateOrder", "refactor config loading"}
	words      = []string{"tenant", "order", "invoice", "session", "retry", "cache", "index", "worker", "token", "schema", "migration", "timeout", "handler", "request", "config"}
	services   = []string{"api", "worker", "search", "billing", "web", "queue", "caddy", "postgres", "redis"}
	logLevels  = []string{"INFO", "INFO", "INFO", "DEBUG", "WARN", "INFO", "ERROR"}
	hosts      = []string{"media-01", "db.staging.internal", "cache.staging.internal", "api.acme.dev", "status.acme.dev", "localhost:8080"}
	httpPaths  = []string{"/v1/orders", "/v1/orders/1042", "/v1/search?q=boots", "/healthz", "/v1/auth/session", "/static/app.js", "/v1/cart", "/v1/invoices?month=2026-08"}
	nsNames    = []string{"prod", "staging", "default", "monitoring"}
	missingBin = []string{"terraform", "kubectl", "helm", "aws", "gcloud", "pnpm", "rg", "jq", "yq", "bun", "poetry", "cargo"}
)

func (s *session) putGoPath() {
	s.putPick(goPkgs)
	s.put("/")
	s.putPick(goFiles)
}

// --- the catalog -----------------------------------------------------------

var catalog = []command{
	{
		bin: "git", kind: kindAny,
		text: func(s *session, p *project) string { return "git status --short --branch" },
		out: func(s *session, p *project, size int) {
			s.put("## main...origin/main")
			if s.pct(30) {
				s.put(" [behind ")
				s.putInt(1, 6)
				s.put("]")
			}
			size = min(size, 600)
			for n := 0; n < 1 || len(s.out) < size; n++ {
				s.put("\n")
				s.putPick([]string{" M ", " M ", "?? ", "A  ", " D "})
				s.putGoPath()
			}
		},
		fail: func(s *session, p *project) int {
			s.put("fatal: not a git repository (or any of the parent directories): .git")
			return 128
		},
	},
	{
		bin: "git", kind: kindAny,
		text: func(s *session, p *project) string {
			return "git log --oneline -n " + strconv.Itoa(s.between(5, 40))
		},
		out: func(s *session, p *project, size int) {
			s.fill(size, func() { s.putHex(7); s.put(" "); s.putPick(subjects) })
		},
		fail: func(s *session, p *project) int {
			s.put("fatal: your current branch 'main' does not have any commits yet")
			return 128
		},
	},
	{
		bin: "git", kind: kindAny,
		text: func(s *session, p *project) string { return "git diff --stat HEAD~" + strconv.Itoa(s.between(1, 5)) },
		out: func(s *session, p *project, size int) {
			s.fill(size, func() {
				s.put(" ")
				s.putGoPath()
				s.put(" | ")
				s.putInt(1, 80)
				s.put(" ")
				s.put(strings.Repeat("+", s.between(1, 12)))
				s.put(strings.Repeat("-", s.between(0, 8)))
			})
			s.put("\n ")
			s.putInt(2, 30)
			s.put(" files changed, ")
			s.putInt(10, 400)
			s.put(" insertions(+), ")
			s.putInt(1, 200)
			s.put(" deletions(-)")
		},
		fail: func(s *session, p *project) int {
			s.put("fatal: ambiguous argument 'HEAD~9': unknown revision or path not in the working tree.\nUse '--' to separate paths from revisions, like this:\n'git <command> [<revision>...] -- [<file>...]'")
			return 128
		},
	},
	{
		bin: "git", kind: kindAny,
		text: func(s *session, p *project) string { return "git pull --ff-only" },
		out: func(s *session, p *project, size int) {
			s.put("Updating ")
			s.putHex(7)
			s.put("..")
			s.putHex(7)
			s.put("\nFast-forward\n")
			s.fill(min(size, 1500), func() {
				s.put(" ")
				s.putGoPath()
				s.put(" | ")
				s.putInt(1, 40)
				s.put(" ")
				s.put(strings.Repeat("+", s.between(1, 9)))
			})
		},
		fail: func(s *session, p *project) int {
			s.put("hint: Diverging branches can't be fast-forwarded, you need to either:\nhint:\nhint: \tgit merge --no-ff\nhint:\nhint: or:\nhint:\nhint: \tgit rebase\nfatal: Not possible to fast-forward, aborting.")
			return 128
		},
	},
	{
		bin: "ls", kind: kindAny,
		text: func(s *session, p *project) string {
			return "ls -la " + pick(s, []string{".", "src", "internal", "scripts", "/var/log", "dist", "tmp"})
		},
		out: func(s *session, p *project, size int) {
			s.put("total ")
			s.putInt(8, 4000)
			s.put("\n")
			s.fill(size, func() {
				s.putPick([]string{"-rw-r--r--  1 node node ", "drwxr-xr-x  4 node node ", "-rwxr-xr-x  1 node node "})
				s.putInt(96, 90000)
				s.put(" Sep  ")
				s.putInt(1, 9)
				s.put(" ")
				s.putInt(10, 23)
				s.put(":")
				s.putInt(10, 59)
				s.put(" ")
				s.putPick(goFiles)
			})
		},
		fail: func(s *session, p *project) int {
			s.put("ls: cannot access 'dist': No such file or directory")
			return 2
		},
	},
	{
		bin: "grep", kind: kindAny,
		text: func(s *session, p *project) string {
			return "grep -rn \"" + pick(s, words) + "\" " + pick(s, []string{"internal/", "src/", "cmd/", "."})
		},
		out: func(s *session, p *project, size int) {
			s.fill(size, func() {
				s.putGoPath()
				s.put(":")
				s.putInt(3, 480)
				s.put(":\t")
				s.putPick([]string{"if err := s.store.", "return fmt.Errorf(\"", "// ", "\tctx, cancel := context.WithTimeout(", "tenant := r.Header.Get(\""})
				s.putPick(words)
				s.put("\")")
			})
		},
		fail: func(s *session, p *project) int { return 1 },
	},
	{
		bin: "go", kind: kindGo, slow: true,
		text: func(s *session, p *project) string {
			return pick(s, []string{"go test ./...", "go test -race ./...", "go test ./internal/... -count=1", "go test -run TestHandle ./internal/api/"})
		},
		out: func(s *session, p *project, size int) {
			s.fill(size, func() {
				s.put("ok  \t")
				s.put(p.module)
				s.put("/")
				s.putPick(goPkgs)
				s.put("\t")
				s.putInt(0, 3)
				s.put(".")
				s.putInt(100, 999)
				s.put("s")
			})
		},
		fail: func(s *session, p *project) int {
			s.put("ok  \t")
			s.put(p.module)
			s.put("/internal/auth\t0.214s\n--- FAIL: TestHandleCreateOrder (0.00s)\n    handler_test.go:")
			s.putInt(40, 200)
			s.put(": status = 500, want 201\nFAIL\nFAIL\t")
			s.put(p.module)
			s.put("/internal/api\t0.391s\nFAIL")
			return 1
		},
	},
	{
		bin: "go", kind: kindGo,
		text: func(s *session, p *project) string {
			return pick(s, []string{"go build ./...", "go vet ./...", "gofmt -l ."})
		},
		out: func(s *session, p *project, size int) {},
		fail: func(s *session, p *project) int {
			s.put("# ")
			s.put(p.module)
			s.put("/")
			s.putPick(goPkgs)
			s.put("\n")
			s.putGoPath()
			s.put(":")
			s.putInt(10, 300)
			s.put(":")
			s.putInt(2, 30)
			s.put(": undefined: ")
			s.putPick(words)
			return 1
		},
	},
	{
		bin: "npm", kind: kindNode, slow: true,
		text: func(s *session, p *project) string {
			return pick(s, []string{"npm test", "npm test -- --runInBand", "npx jest src/orders"})
		},
		out: func(s *session, p *project, size int) {
			s.put("> acme-web@3.2.0 test\n> jest\n\n")
			s.fill(size, func() {
				s.put("PASS ")
				s.putPick(jsFiles)
				s.put(" (")
				s.putInt(0, 4)
				s.put(".")
				s.putInt(100, 999)
				s.put(" s)")
			})
			s.put("\n\nTest Suites: ")
			s.putInt(20, 70)
			s.put(" passed\nTests:       ")
			s.putInt(100, 500)
			s.put(" passed\nTime:        ")
			s.putInt(5, 60)
			s.put(".")
			s.putInt(100, 999)
			s.put(" s\nRan all test suites.")
		},
		fail: func(s *session, p *project) int {
			s.put("FAIL src/orders/create.test.ts\n  \u25cf orders \u203a create \u203a sends the tenant header\n\n    expect(received).toHaveProperty(path)\n\n    Expected path: \"x-acme-tenant\"\n    Received path: []\n\nTest Suites: 1 failed, ")
			s.putInt(20, 60)
			s.put(" passed\nTests:       ")
			s.putInt(1, 4)
			s.put(" failed, ")
			s.putInt(100, 400)
			s.put(" passed")
			return 1
		},
	},
	{
		bin: "npm", kind: kindNode, slow: true,
		text: func(s *session, p *project) string { return "npm run build" },
		out: func(s *session, p *project, size int) {
			s.put("> acme-web@3.2.0 build\n> vite build\n\nvite v5.4.8 building for production...\n\u2713 ")
			s.putInt(200, 900)
			s.put(" modules transformed.\n")
			s.fill(size, func() {
				s.put("dist/assets/")
				s.putPick([]string{"index", "checkout", "search", "vendor", "profile"})
				s.put("-")
				s.out = appendRand(s.out, s.rng, b62, 8)
				s.put(".js   ")
				s.putInt(2, 400)
				s.put(".")
				s.putInt(10, 99)
				s.put(" kB \u2502 gzip: ")
				s.putInt(1, 120)
				s.put(".")
				s.putInt(10, 99)
				s.put(" kB")
			})
			s.put("\n\u2713 built in ")
			s.putInt(2, 30)
			s.put(".")
			s.putInt(10, 99)
			s.put("s")
		},
		fail: func(s *session, p *project) int {
			s.putPick(jsFiles)
			s.put("(")
			s.putInt(5, 200)
			s.put(",")
			s.putInt(3, 40)
			s.put("): error TS2322: Type 'string' is not assignable to type 'number'.")
			return 2
		},
	},
	{
		bin: "npm", kind: kindNode, slow: true,
		text: func(s *session, p *project) string {
			return pick(s, []string{"npm ci", "npm install", "npm install --save-dev vitest"})
		},
		out: func(s *session, p *project, size int) {
			s.put("\nadded ")
			s.putInt(200, 1400)
			s.put(" packages, and audited ")
			s.putInt(200, 1400)
			s.put(" packages in ")
			s.putInt(3, 60)
			s.put("s\n\n")
			s.putInt(20, 200)
			s.put(" packages are looking for funding\n  run `npm fund` for details\n\nfound 0 vulnerabilities")
		},
		fail: func(s *session, p *project) int {
			s.put("npm ERR! code ERESOLVE\nnpm ERR! ERESOLVE unable to resolve dependency tree\nnpm ERR!\nnpm ERR! While resolving: acme-web@3.2.0\nnpm ERR! Found: react@18.3.1\nnpm ERR! Could not resolve dependency:\nnpm ERR! peer react@\"^19.0.0\" from @acme/ui@4.0.0")
			return 1
		},
	},
	{
		bin: "npx", kind: kindNode,
		text: func(s *session, p *project) string { return "npx eslint src --color" },
		out: func(s *session, p *project, size int) {
			// eslint colours its report even when piped, with --color.
			s.fill(size, func() {
				s.put("\x1b[4m")
				s.putPick(jsFiles)
				s.put("\x1b[24m\n  \x1b[2m")
				s.putInt(1, 300)
				s.put(":")
				s.putInt(1, 40)
				s.put("\x1b[22m  \x1b[33mwarning\x1b[39m  '")
				s.putPick(words)
				s.put("' is assigned a value but never used  \x1b[2m@typescript-eslint/no-unused-vars\x1b[22m\n")
			})
			s.put("\n\x1b[33m\x1b[1m\u2716 ")
			s.putInt(1, 9)
			s.put(" problems (0 errors, warnings only)\x1b[22m\x1b[39m")
		},
		fail: func(s *session, p *project) int {
			s.put("\x1b[4m")
			s.putPick(jsFiles)
			s.put("\x1b[24m\n  \x1b[2m")
			s.putInt(1, 300)
			s.put(":")
			s.putInt(1, 40)
			s.put("\x1b[22m  \x1b[31merror\x1b[39m  'total' is not defined  \x1b[2mno-undef\x1b[22m\n\n\x1b[31m\x1b[1m\u2716 1 problem (1 error, 0 warnings)\x1b[22m\x1b[39m")
			return 1
		},
	},
	{
		bin: "pytest", kind: kindPython, slow: true,
		text: func(s *session, p *project) string {
			return pick(s, []string{"pytest -q", "python -m pytest -q tests/", "pytest -q -k features"})
		},
		out: func(s *session, p *project, size int) {
			pct := 0
			s.fill(size, func() {
				s.put(strings.Repeat(".", s.between(20, 70)))
				pct = min(100, pct+s.between(5, 30))
				s.put(" [")
				s.out = strconv.AppendInt(s.out, int64(pct), 10)
				s.put("%]")
			})
			s.put("\n")
			s.putInt(20, 400)
			s.put(" passed in ")
			s.putInt(1, 90)
			s.put(".")
			s.putInt(10, 99)
			s.put("s")
		},
		fail: func(s *session, p *project) int {
			s.put("....F......\n=================================== FAILURES ===================================\n___________________________ test_feature_scaling ____________________________\n\n    def test_feature_scaling():\n>       assert scaled.max() <= 1.0\nE       assert 1.0000001 <= 1.0\n\ntests/test_features.py:")
			s.putInt(10, 200)
			s.put(": AssertionError\n=========================== short test summary info ============================\nFAILED tests/test_features.py::test_feature_scaling - assert 1.0000001 <= 1.0\n1 failed, ")
			s.putInt(10, 300)
			s.put(" passed in 4.02s")
			return 1
		},
	},
	{
		bin: "python3", kind: kindPython, slow: true,
		text: func(s *session, p *project) string {
			return pick(s, []string{"python3 scripts/export.py --month 2026-08", "python3 -m acme_ml.train --epochs 3", "python3 scripts/build_index.py --shard 2"})
		},
		out: func(s *session, p *project, size int) {
			n := 0
			s.fill(size, func() {
				n++
				s.putClock()
				s.put(",")
				s.putInt(100, 999)
				s.put(" ")
				s.putPick(logLevels)
				s.put(" batch ")
				s.out = strconv.AppendInt(s.out, int64(n), 10)
				s.put(" processed (")
				s.putInt(500, 5000)
				s.put(" rows, ")
				s.putInt(1, 900)
				s.put(" ms)")
			})
		},
		fail: func(s *session, p *project) int {
			s.put("Traceback (most recent call last):\n  File \"/home/node/.openclaw/workspace/acme-ml/")
			s.putPick(pyFiles)
			s.put("\", line ")
			s.putInt(5, 300)
			s.put(", in <module>\n    import fitz\nModuleNotFoundError: No module named 'fitz'")
			return 1
		},
	},
	{
		bin: "curl", kind: kindAny,
		text: func(s *session, p *project) string {
			return "curl -s https://" + pick(s, hosts) + pick(s, httpPaths)
		},
		out: func(s *session, p *project, size int) {
			s.put("{\"status\":\"ok\",\"version\":\"3.2.")
			s.putInt(0, 9)
			s.put("\",\"items\":[")
			start := len(s.out)
			for i := 0; i == 0 || len(s.out)-start < size; i++ {
				if i > 0 {
					s.put(",")
				}
				s.put("{\"id\":")
				s.putInt(1000, 99999)
				s.put(",\"sku\":\"SKU-")
				s.putInt(1000, 9999)
				s.put("\",\"qty\":")
				s.putInt(1, 9)
				s.put(",\"tenant\":\"acme-")
				s.putPick(nsNames)
				s.put("\"}")
			}
			s.put("]}")
		},
		fail: func(s *session, p *project) int {
			if s.pct(50) {
				s.put("curl: (7) Failed to connect to localhost port 8080 after 0 ms: Couldn't connect to server")
				return 7
			}
			s.put("curl: (22) The requested URL returned error: 502")
			return 22
		},
	},
	{
		bin: "docker", kind: kindAny,
		text: func(s *session, p *project) string {
			return "docker ps --format 'table {{.Names}}\\t{{.Status}}\\t{{.Image}}'"
		},
		out: func(s *session, p *project, size int) {
			s.put("NAMES\tSTATUS\tIMAGE\n")
			s.fill(size, func() {
				s.put("acme-")
				s.putPick(services)
				s.put("-1\tUp ")
				s.putInt(2, 59)
				s.putPick([]string{" minutes", " hours", " days"})
				s.put("\tacme/")
				s.putPick(services)
				s.put(":3.2.")
				s.putInt(0, 9)
			})
		},
		fail: func(s *session, p *project) int {
			s.put("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
			return 1
		},
	},
	{
		bin: "docker", kind: kindAny,
		text: func(s *session, p *project) string {
			return "docker logs --tail " + strconv.Itoa(s.between(50, 500)) + " acme-" + pick(s, services) + "-1"
		},
		out: func(s *session, p *project, size int) {
			s.fill(size, func() {
				s.put("{\"time\":\"")
				s.out = appendISO(s.out, s.now.Add(-timeDuration(s.between(0, 600_000))))
				s.put("\",\"level\":\"")
				s.putPick(logLevels)
				s.put("\",\"msg\":\"request\",\"method\":\"")
				s.putPick([]string{"GET", "GET", "POST", "PUT"})
				s.put("\",\"path\":\"")
				s.putPick(httpPaths)
				s.put("\",\"status\":")
				s.putPick([]string{"200", "200", "200", "201", "404", "500"})
				s.put(",\"duration_ms\":")
				s.putInt(1, 900)
				s.put("}")
			})
		},
		fail: func(s *session, p *project) int {
			s.put("Error response from daemon: No such container: acme-")
			s.putPick(services)
			s.put("-1")
			return 1
		},
	},
	{
		bin: "kubectl", kind: kindInfra,
		text: func(s *session, p *project) string { return "kubectl get pods -n " + pick(s, nsNames) },
		out: func(s *session, p *project, size int) {
			s.put("NAME                                READY   STATUS    RESTARTS   AGE\n")
			s.fill(size, func() {
				s.putPick(services)
				s.put("-")
				s.out = appendRand(s.out, s.rng, "bcdfghjklmnpqrstvwxz2456789", 10)
				s.put("-")
				s.out = appendRand(s.out, s.rng, "bcdfghjklmnpqrstvwxz2456789", 5)
				s.put("        1/1     Running   ")
				s.putInt(0, 4)
				s.put("          ")
				s.putInt(1, 30)
				s.put("d")
			})
		},
		fail: func(s *session, p *project) int {
			s.put("error: You must be logged in to the server (Unauthorized)")
			return 1
		},
	},
	{
		bin: "df", kind: kindAny,
		text: func(s *session, p *project) string {
			return pick(s, []string{"df -h", "df -h / /var/lib/docker", "du -sh /var/log/*"})
		},
		out: func(s *session, p *project, size int) {
			s.put("Filesystem      Size  Used Avail Use% Mounted on\n")
			mounts := []string{"/", "/srv", "/var/lib/docker", "/home", "/boot", "/mnt/backup"}
			n := 0
			s.fill(min(size, 500), func() {
				total := s.between(20, 900)
				used := total * s.between(3, 97) / 100
				s.put("/dev/")
				s.putPick([]string{"sda1", "sdb1", "nvme0n1p2", "md0"})
				s.put("       ")
				s.out = strconv.AppendInt(s.out, int64(total), 10)
				s.put("G  ")
				s.out = strconv.AppendInt(s.out, int64(used), 10)
				s.put("G  ")
				s.out = strconv.AppendInt(s.out, int64(total-used), 10)
				s.put("G  ")
				s.out = strconv.AppendInt(s.out, int64(used*100/total), 10)
				s.put("% ")
				s.put(mounts[n%len(mounts)])
				n++
			})
		},
		fail: func(s *session, p *project) int {
			s.put("df: /mnt/backup: Transport endpoint is not connected")
			return 1
		},
	},
	{
		bin: "cat", kind: kindAny,
		text: func(s *session, p *project) string {
			return "cat " + pick(s, []string{"config/app.yaml", ".env.example", "docker-compose.yml", "Makefile", "README.md"})
		},
		out: func(s *session, p *project, size int) {
			// A few real-looking secrets so redaction has something to find.
			if s.pct(4) {
				s.put("DATABASE_URL=postgres://acme_app:")
				s.out = appendRand(s.out, s.rng, b62, 12)
				s.put("@db.staging.internal:5432/acme\nAWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nANTHROPIC_API_KEY=sk-ant-api03-")
				s.out = appendRand(s.out, s.rng, b62, 93)
				s.put("AA\n")
			}
			s.fill(size, func() {
				s.putPick(words)
				s.put(":\n  enabled: ")
				s.putPick([]string{"true", "false"})
				s.put("\n  timeout_ms: ")
				s.putInt(100, 30000)
				s.put("\n  host: ")
				s.putPick(hosts)
			})
		},
		fail: func(s *session, p *project) int {
			s.put("cat: config/app.local.yaml: No such file or directory")
			return 1
		},
	},
	{
		bin: "ps", kind: kindAny,
		text: func(s *session, p *project) string { return "ps aux --sort=-%mem | head -n 15" },
		out: func(s *session, p *project, size int) {
			s.put("USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND")
			for i := 0; i < 14; i++ {
				s.put("\n")
				s.putPick([]string{"node    ", "root    ", "postgres", "redis   "})
				s.put("   ")
				s.putInt(100, 99999)
				s.put("  ")
				s.putInt(0, 90)
				s.put(".")
				s.putInt(0, 9)
				s.put("  ")
				s.putInt(0, 30)
				s.put(".")
				s.putInt(0, 9)
				s.put(" ")
				s.putInt(100000, 9000000)
				s.put(" ")
				s.putInt(10000, 3000000)
				s.put(" ?        Ssl  Aug31  ")
				s.putInt(0, 300)
				s.put(":")
				s.putInt(10, 59)
				s.put(" ")
				s.putPick([]string{"node dist/index.js gateway --bind lan --port 18789", "postgres: 16/main: checkpointer", "redis-server *:6379", "/usr/bin/containerd", "python3 -m acme_ml.train"})
			}
		},
		fail: func(s *session, p *project) int {
			s.put("error: unsupported SysV option\n\nUsage:\n ps [options]")
			return 1
		},
	},
	{
		bin: "journalctl", kind: kindAny,
		text: func(s *session, p *project) string {
			return "journalctl -u " + pick(s, services) + " -n " + strconv.Itoa(s.between(20, 300)) + " --no-pager"
		},
		out: func(s *session, p *project, size int) {
			s.fill(size, func() {
				s.out = s.now.Add(-timeDuration(s.between(0, 3600_000))).AppendFormat(s.out, "Jan 02 15:04:05")
				s.put(" media-01 ")
				s.putPick(services)
				s.put("[")
				s.putInt(300, 60000)
				s.put("]: ")
				s.putPick([]string{"listening on :8080", "connection reset by peer", "processed job ", "retrying in 2s: dial tcp 10.0.3.12:5432: i/o timeout", "GC forced", "shutting down worker pool"})
				s.putPick(words)
			})
		},
		fail: func(s *session, p *project) int {
			s.put("Hint: You are currently not seeing messages from other users and the system.\n      Users in groups 'adm', 'systemd-journal' can see all messages.\n-- No entries --")
			return 1
		},
	},
	{
		bin: "tail", kind: kindAny,
		text: func(s *session, p *project) string {
			return "tail -n " + strconv.Itoa(s.between(50, 400)) + " /var/log/nginx/access.log"
		},
		out: func(s *session, p *project, size int) {
			s.fill(size, func() {
				s.put("10.0.")
				s.putInt(0, 9)
				s.put(".")
				s.putInt(2, 250)
				s.put(" - - [")
				s.out = s.now.Add(-timeDuration(s.between(0, 3600_000))).AppendFormat(s.out, "02/Jan/2006:15:04:05 +0000")
				s.put("] \"")
				s.putPick([]string{"GET ", "GET ", "POST "})
				s.putPick(httpPaths)
				s.put(" HTTP/1.1\" ")
				s.putPick([]string{"200", "200", "304", "404", "502"})
				s.put(" ")
				s.putInt(0, 90000)
				s.put(" \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"")
			})
		},
		fail: func(s *session, p *project) int {
			s.put("tail: cannot open '/var/log/nginx/access.log' for reading: Permission denied")
			return 1
		},
	},
	{
		bin: "systemctl", kind: kindAny,
		text: func(s *session, p *project) string { return "systemctl status " + pick(s, services) + " --no-pager" },
		out: func(s *session, p *project, size int) {
			s.put("\u25cf acme-worker.service - Acme worker\n     Loaded: loaded (/etc/systemd/system/acme-worker.service; enabled; preset: enabled)\n     Active: active (running) since Mon 2026-08-31 04:00:12 UTC; 2 days ago\n   Main PID: ")
			s.putInt(300, 60000)
			s.put(" (worker)\n      Tasks: ")
			s.putInt(5, 60)
			s.put(" (limit: 18956)\n     Memory: ")
			s.putInt(40, 900)
			s.put(".0M")
		},
		fail: func(s *session, p *project) int {
			s.put("\u25cb acme-worker.service - Acme worker\n     Loaded: loaded (/etc/systemd/system/acme-worker.service; enabled; preset: enabled)\n     Active: inactive (dead) since Wed 2026-09-02 03:12:40 UTC; 6h ago")
			return 3
		},
	},
	{
		bin: "make", kind: kindGo, slow: true,
		text: func(s *session, p *project) string { return pick(s, []string{"make lint", "make test", "make build"}) },
		out: func(s *session, p *project, size int) {
			s.put("golangci-lint run ./...\ngo test -race ./...\n")
			s.fill(size, func() {
				s.put("ok  \t")
				s.put(p.module)
				s.put("/")
				s.putPick(goPkgs)
				s.put("\t")
				s.putInt(1, 9)
				s.put(".")
				s.putInt(100, 999)
				s.put("s")
			})
		},
		fail: func(s *session, p *project) int {
			s.put("golangci-lint run ./...\n")
			s.putGoPath()
			s.put(":")
			s.putInt(10, 300)
			s.put(":5: ineffectual assignment to err (ineffassign)\nmake: *** [Makefile:24: lint] Error 1")
			return 2
		},
	},
	{
		bin: "terraform", kind: kindInfra, slow: true,
		text: func(s *session, p *project) string { return "terraform -chdir=envs/staging plan -no-color" },
		out: func(s *session, p *project, size int) {
			s.put("Refreshing state...\n")
			s.fill(size, func() {
				s.put("  # aws_instance.")
				s.putPick(services)
				s.put(" will be updated in-place\n  ~ resource \"aws_instance\" \"")
				s.putPick(services)
				s.put("\" {\n      ~ instance_type = \"t3.medium\" -> \"t3.large\"\n    }")
			})
			s.put("\n\nPlan: 0 to add, ")
			s.putInt(1, 9)
			s.put(" to change, 0 to destroy.")
		},
		fail: func(s *session, p *project) int {
			s.put("Error: No valid credential sources found\n\n  with provider[\"registry.terraform.io/hashicorp/aws\"],\n  on main.tf line 12, in provider \"aws\":\n  12: provider \"aws\" {")
			return 1
		},
	},
}

// commandsFor indexes the catalog by project kind once.
var commandsFor = func() map[projectKind][]*command {
	m := make(map[projectKind][]*command)
	for i := range catalog {
		c := &catalog[i]
		if c.kind == kindAny {
			for _, k := range []projectKind{kindGo, kindNode, kindPython, kindInfra} {
				m[k] = append(m[k], c)
			}
			continue
		}
		m[c.kind] = append(m[c.kind], c)
	}
	return m
}()
