package claims

import (
	"path"
	"strings"
	"unsafe"
)

// normalizeCommand is the form a claimed command is reported in: a prompt
// marker the model copied along ("$ ") says nothing about the command, and
// whitespace differences are layout, not meaning.
func normalizeCommand(s string) string {
	s = strings.TrimSpace(s)
	if p := promptPrefixLen(s); p > 0 {
		s = s[p:]
	}
	return collapseSpace(s)
}

// promptPrefixLen is the length of a bare "$ " or "❯ " prompt at the start of s.
func promptPrefixLen(s string) int {
	switch {
	case strings.HasPrefix(s, "$ "):
		return 2
	case strings.HasPrefix(s, "❯ "):
		return len("❯ ")
	}
	return 0
}

func collapseSpace(s string) string {
	clean := true
	prevSpace := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		sp := c == ' ' || c == '\t' || c == '\n' || c == '\r'
		if sp && (c != ' ' || prevSpace) {
			clean = false
			break
		}
		prevSpace = sp
	}
	if clean && !prevSpace {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// segment is one simple command of a shell line, reduced to what identifies
// it across the ways a model retells it: the program and its non-flag
// arguments.
type segment struct {
	prog string
	args []string // non-flag arguments, in order
}

// cmdInfo is a command prepared for matching.
type cmdInfo struct {
	canon string // whitespace-collapsed, lower case
	segs  []segment
}

func newCmdInfo(cmd string) cmdInfo {
	canon := canonCommand(cmd)
	return cmdInfo{canon: canon, segs: commandSegments(canon, 0)}
}

// canonCommand is a command's canonical form: whitespace collapsed, lower case.
func canonCommand(cmd string) string {
	if isCanon(cmd) {
		return cmd
	}
	return strings.ToLower(normalizeCommand(cmd))
}

// isCanon reports a command already in canonical form, as most executed ones
// are, in one pass instead of the trim, prompt, space and case passes.
// Rejecting every ASCII control space and all non-ASCII keeps the answer a
// subset of what those passes leave unchanged.
func isCanon(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' || strings.HasPrefix(s, "$ ") {
		return false
	}
	prev := byte(0) // canonClass of the byte before
	for i := 0; i < len(s); i++ {
		k := canonClass[s[i]]
		if k|prev == canonSpace|canonSpace>>1 || k == canonBad {
			return false
		}
		prev = k >> 1
	}
	return true
}

// canonClass sorts bytes for isCanon, one load per byte instead of a chain of
// comparisons (isCanon was a tenth of Executed): a space is 2, so that a space
// after a space (prev holds the earlier class halved) makes 3; a byte no
// canonical command holds is canonBad.
const (
	canonSpace = 2
	canonBad   = 4
)

var canonClass = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case c == ' ':
			t[c] = canonSpace
		case c >= 'A' && c <= 'Z', c >= 0x80, c >= '\t' && c <= '\r':
			t[c] = canonBad
		}
	}
	return t
}()

// matches reports whether a claimed command plausibly names one executed
// command. The model retells commands loosely (drops a `cd dir &&`, a
// `| tail`, flags, or says `npm test` for `npm run test`), and precision
// matters more than recall, so every reading that could be the same command
// counts: equal text, one inside the other at word boundaries, or each
// simple command of the claim having the same program and first argument as
// one in the execution.
func (c cmdInfo) matches(e *cmdInfo) bool {
	if c.canon == "" || e.canon == "" {
		return false
	}
	if c.canon == e.canon {
		return true
	}
	short, long := c.canon, e.canon
	if len(short) > len(long) {
		short, long = long, short
	}
	if len(short) >= 4 && containsAtBoundary(long, short) {
		return true
	}
	return len(c.segs) > 0 && segsCovered(c.segs, []*cmdInfo{e})
}

// segsCovered reports whether every simple command in segs has a
// counterpart among the candidates, possibly in different calls ("I ran
// `npm ci && npm test`" after two separate calls).
func segsCovered(segs []segment, cands []*cmdInfo) bool {
	for _, s := range segs {
		found := false
		for _, e := range cands {
			for _, es := range e.segs {
				if s.sameAs(es) {
					found = true
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (s segment) sameAs(o segment) bool {
	if s.prog != o.prog {
		return false
	}
	if len(s.args) == 0 || len(o.args) == 0 {
		return true
	}
	// Flags that take values put the value first among the non-flag
	// arguments in one spelling and not in another (`kubectl -n x get` vs
	// `kubectl get -n x`), so either first argument may appear anywhere.
	return contains(o.args, s.args[0]) || contains(s.args, o.args[0])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// containsAtBoundary reports whether sub occurs in s at word boundaries, so
// that `ls` is found in `cd x && ls -la` but not in `tools`.
func containsAtBoundary(s, sub string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], sub)
		if i < 0 {
			return false
		}
		i += off
		j := i + len(sub)
		if (i == 0 || isCmdBoundary(s[i-1]) || isCmdBoundary(sub[0])) &&
			(j == len(s) || isCmdBoundary(s[j]) || isCmdBoundary(sub[len(sub)-1])) {
			return true
		}
		off = i + 1
	}
}

func isCmdBoundary(c byte) bool {
	switch c {
	case ' ', '\t', '\n', ';', '&', '|', '(', ')', '"', '\'', '`', '=':
		return true
	}
	return false
}

// maxUnwrap bounds `bash -c "bash -c ..."` nesting.
const maxUnwrap = 3

// commandSegments splits a shell line into simple commands. Only the first
// command of a pipeline is kept: the consumers (`| tail`, `| grep x`) are
// presentation, and models drop or add them freely when retelling.
func commandSegments(s string, depth int) []segment {
	var segs []segment
	for _, toks := range splitShell(s) {
		if len(toks) == 0 {
			continue
		}
		segs = append(segs, reduceSegment(toks, depth)...)
	}
	return segs
}

// splitShell tokenises a shell line into pipelines' first commands. It is a
// best-effort reader for matching, not a shell parser: quotes and backslashes
// are honoured, expansions are left as text.
func splitShell(s string) [][]string {
	var (
		out [][]string
		cur []string
		// Token bytes go to one buffer, and each token is a string over its part
		// of it: the buffer is only ever appended to, so no part is written after
		// it became a token. One allocation per line instead of a Builder's
		// several per token.
		buf      = make([]byte, 0, len(s))
		tokStart int
		inTok    bool
		piped    bool // current simple command is a pipe consumer
		quote    byte
	)
	endTok := func() {
		if inTok {
			t := buf[tokStart:]
			cur = append(cur, unsafe.String(unsafe.SliceData(t), len(t)))
			tokStart = len(buf)
			inTok = false
		}
	}
	endCmd := func(nextPiped bool) {
		endTok()
		if len(cur) > 0 && !piped {
			out = append(out, cur)
		}
		cur = nil
		piped = nextPiped
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			switch {
			case c == quote:
				quote = 0
			case c == '\\' && quote == '"' && i+1 < len(s):
				i++
				buf = append(buf, s[i])
			default:
				buf = append(buf, c)
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
			inTok = true
		case '\\':
			if i+1 < len(s) {
				i++
				buf = append(buf, s[i])
				inTok = true
			}
		case ' ', '\t', '\r':
			endTok()
		case '\n', ';', '(', ')':
			endCmd(false)
		case '&':
			if i+1 < len(s) && s[i+1] == '&' {
				i++
			} else if inTok || len(buf) > tokStart {
				// "2>&1" and friends are part of a redirection
				buf = append(buf, c)
				continue
			}
			endCmd(false)
		case '|':
			if i+1 < len(s) && s[i+1] == '|' {
				i++
				endCmd(false)
			} else {
				endCmd(true)
			}
		default:
			buf = append(buf, c)
			inTok = true
		}
	}
	endCmd(false)
	return out
}

// reduceSegment strips wrappers that do not change which program runs and
// resolves launchers to the program or script they start.
func reduceSegment(toks []string, depth int) []segment {
	i := 0
	for i < len(toks) {
		t := toks[i]
		switch {
		case isEnvAssign(t):
			i++
		case t == "sudo" || t == "nohup" || t == "time" || t == "exec" || t == "command" || t == "builtin" || t == "nice" || t == "env" || t == "doas":
			i++
			for i < len(toks) && strings.HasPrefix(toks[i], "-") {
				i++
			}
		case t == "timeout" && i+1 < len(toks):
			i += 2
		default:
			goto done
		}
	}
done:
	if i >= len(toks) {
		return nil
	}
	toks = toks[i:]
	prog := path.Base(toks[0])
	rest := toks[1:]
	switch {
	case prog == "cd" || prog == "pushd" || prog == "popd" || prog == "export" || prog == "set" || prog == "source" || prog == "." || prog == "true" || prog == ":":
		// Directory and environment set-up is how a call was run, not what
		// it ran; a claim rarely repeats it.
		return nil
	case (prog == "bash" || prog == "sh" || prog == "zsh") && len(rest) >= 2 && strings.HasPrefix(rest[0], "-") && strings.Contains(rest[0], "c"):
		if depth < maxUnwrap {
			return commandSegments(strings.Join(rest[1:2], " "), depth+1)
		}
	case isPython(prog) && len(rest) >= 2 && rest[0] == "-m":
		prog, rest = rest[1], rest[2:]
	case prog == "npx" || prog == "bunx" || prog == "pnpx":
		rest = dropFlags(rest)
		if len(rest) > 0 {
			prog, rest = path.Base(rest[0]), rest[1:]
		}
	case (prog == "uv" || prog == "poetry" || prog == "pipenv" || prog == "pdm" || prog == "hatch" || prog == "bundle") && len(rest) >= 2 && (rest[0] == "run" || rest[0] == "exec"):
		prog, rest = path.Base(rest[1]), rest[2:]
	case (prog == "npm" || prog == "yarn" || prog == "pnpm" || prog == "bun") && len(rest) >= 1 && (rest[0] == "run" || rest[0] == "run-script"):
		rest = rest[1:]
	}
	if isInterpreter(prog) {
		// `python manage.py migrate` and `python manage.py makemigrations`
		// are different commands; the script is the program.
		if a := dropFlags(rest); len(a) > 0 && a[0] != "" && !strings.HasPrefix(rest[0], "-c") && looksLikeScript(a[0]) {
			for j, t := range rest {
				if t == a[0] {
					prog, rest = path.Base(t), rest[j+1:]
					break
				}
			}
		}
	}
	var args []string
	for _, t := range rest {
		if t == "" || strings.HasPrefix(t, "-") || strings.ContainsAny(t, "<>") {
			continue
		}
		args = append(args, t)
	}
	return []segment{{prog: prog, args: args}}
}

func dropFlags(toks []string) []string {
	for len(toks) > 0 && strings.HasPrefix(toks[0], "-") {
		toks = toks[1:]
	}
	return toks
}

func isEnvAssign(t string) bool {
	eq := strings.IndexByte(t, '=')
	if eq <= 0 {
		return false
	}
	for i := 0; i < eq; i++ {
		c := t[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isPython(p string) bool {
	return p == "python" || p == "py" || strings.HasPrefix(p, "python2") || strings.HasPrefix(p, "python3")
}

func isInterpreter(p string) bool {
	switch p {
	case "node", "ruby", "perl", "php", "bash", "sh", "zsh", "deno", "bun", "tsx", "ts-node":
		return true
	}
	return isPython(p)
}

func looksLikeScript(t string) bool {
	return strings.Contains(t, "/") || strings.Contains(path.Base(t), ".")
}

// isCommandLike decides whether the text of an inline code span is a shell
// command rather than a file name, identifier, value or code. Single words
// count only when they are programs people run bare (`make`, `ls`); anything
// else needs a known program or a flag.
func isCommandLike(span string) bool {
	if span == "" || !commandStart[span[0]] && span[0] != ' ' {
		return false // `Server`, `_id`, `@scope/pkg`, `"quoted"`
	}
	if len(span) < 40 && strings.IndexByte(span, ' ') < 0 && !oneWordCommandShape(span) {
		return false // `parseConfig`, `config.go`, `user_id`
	}
	s := strings.TrimSpace(span)
	if p := promptPrefixLen(s); p > 0 {
		s = strings.TrimSpace(s[p:])
	}
	if s == "" || len(s) > 2000 || strings.ContainsAny(s, "\n\r") {
		return false
	}
	if strings.IndexByte(s, ' ') < 0 && strings.IndexByte(s, '\t') < 0 {
		// most spans in prose are one identifier or file name
		if isPathProgram(s) {
			return barePathRuns(s)
		}
		return singlePrograms[s]
	}
	f := strings.Fields(s)
	i := 0
	for i < len(f) && (isEnvAssign(f[i]) || f[i] == "sudo") {
		i++
	}
	if i >= len(f) {
		return false
	}
	first, rest := f[i], f[i+1:]
	if isPathProgram(first) {
		if len(rest) > 0 {
			return !looksLikeCodeArgs(rest)
		}
		return barePathRuns(first)
	}
	if len(f) == 1 {
		return singlePrograms[first]
	}
	if i > 0 && len(rest) == 0 {
		return programs[first] || singlePrograms[first]
	}
	if programs[first] || singlePrograms[first] {
		return !looksLikeCodeArgs(rest)
	}
	if !isWordLower(first) || codeKeywords[first] {
		return false
	}
	if ext := path.Ext(first); ext != "" && ext != ".sh" && ext != ".py" {
		return false
	}
	hasFlag := strings.HasSuffix(first, ".sh") || strings.HasSuffix(first, ".py")
	for _, a := range rest {
		if len(a) > 1 && a[0] == '-' && (a[1] == '-' || a[1] >= 'a' && a[1] <= 'z' || a[1] >= 'A' && a[1] <= 'Z') {
			hasFlag = true
		}
	}
	return hasFlag && !looksLikeCodeArgs(rest)
}

// commandStart holds the bytes a command span can start with: a program
// name, a path, a prompt, or an environment assignment (upper case).
var commandStart = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "./~$❯\t" {
		if c < 256 {
			t[c] = true
		}
	}
	t[0xe2] = true // ❯
	return t
}()

// oneWordCommandShape reports whether a span without spaces could be a
// program name or a path: bare programs are lower case letters, digits and
// hyphens.
func oneWordCommandShape(s string) bool {
	if isPathProgram(s) || strings.HasPrefix(s, "$") {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// barePathRuns reports whether a path given alone is something run: alone,
// a path is usually a file or directory being discussed, so only scripts,
// bin directories and well-known wrappers count.
func barePathRuns(p string) bool {
	b := path.Base(p)
	switch path.Ext(b) {
	case ".sh", ".py", ".rb", ".pl", ".bash":
		return true
	}
	return pathWrappers[b] || strings.Contains(p, "/bin/") || strings.Contains(p, "/sbin/")
}

// isPathProgram reports a first word given as a path: `./gradlew`,
// `~/bin/tool.sh`, `/usr/bin/env`.
func isPathProgram(s string) bool {
	return strings.HasPrefix(s, "./") || strings.HasPrefix(s, "~/") || len(s) > 1 && s[0] == '/' && s[1] != '/'
}

var pathWrappers = setOf(`gradlew mvnw configure bootstrap autogen.sh manage.py`)

func looksLikeCodeArgs(rest []string) bool {
	if len(rest) == 0 {
		return false
	}
	switch rest[0] {
	case "=", ":=", "==", "===", "=>", "->", "+=", "!=", "{", "}", "(":
		return true
	}
	return false
}

func isWordLower(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '+') {
			return false
		}
	}
	return true
}

var codeKeywords = setOf(`const let var func def return import from class if for while type package public private static new await async select insert update delete create drop alter fn pub use mod struct enum impl trait interface export default try catch throw else elif switch case`)

// singlePrograms are programs that are commonly run without arguments and
// rarely appear in backticks as anything other than the program.
var singlePrograms = setOf(`ls pwd whoami id uname df du ps env printenv git npm yarn pnpm cargo pytest make docker kubectl helm terraform curl wget uptime hostname nproc lscpu lsblk lsusb lspci ifconfig netstat htop top jest vitest tsc eslint gofmt black ruff mypy tox nox brew systemctl journalctl nvidia-smi free date dmesg tree mvn gradle gradlew bundle rake composer ansible vagrant minikube gh aws gcloud az flutter deno bun poetry pipenv pip pip3 ninja cmake meson bazel sbt swift xcodebuild rustc rustup staticcheck golangci-lint govulncheck shellcheck hadolint prettier webpack vite playwright cypress mocha phpunit rspec pylint flake8 isort bandit pre-commit docker-compose podman ip ss lsof mount w who last sensors arch locale timedatectl hostnamectl`)

// programs are command names recognised as the first word of a multi-word
// span; unknown first words need a flag to count.
var programs = setOf(`cat head tail grep egrep fgrep rg ag find fd echo printf cd mkdir rm rmdir cp mv touch chmod chown chgrp ln kill pkill killall service apt apt-get apt-cache dpkg yum dnf apk pacman snap zypper ssh scp sftp rsync tar zip unzip gzip gunzip xz bzip2 sed awk jq yq wc sort uniq cut tr diff cmp which whereis type export source java javac jar dotnet ruby rails php node python python2 python3 py go npx pnpx bunx uv sqlite3 psql mysql redis-cli mongosh mongo ping ping6 dig nslookup host traceroute tracepath nc ncat telnet openssl ssh-keygen ssh-add gpg sudo bash sh zsh fish file stat test time xargs tee watch less more nohup crontab umount fdisk parted useradd usermod passwd openclaw ansible-playbook ansible-galaxy vault consul nomad packer pulumi cdk sam serverless firebase vercel netlify heroku fly flyctl wrangler supabase prisma alembic django-admin flask uvicorn gunicorn celery goreleaser clippy next nuxt ng expo karma coverage twine maturin gcc g++ clang clang++ cc ld objdump nm readelf ldd strings hexdump xxd od base64 sha256sum sha1sum md5sum shasum cksum ffmpeg ffprobe pandoc hugo jekyll nx turbo lerna biome tsx ts-node esbuild rollup parcel babel nodemon pm2 supervisorctl nginx apachectl httpd caddy certbot mkcert kubeadm kubelet etcdctl kustomize skaffold argocd flux istioctl linkerd stern velero eksctl doctl oc virsh tmux screen git-lfs hub glab svn hg nvm pyenv rbenv asdf conda mamba micromamba jupyter ipython strace ltrace gdb lldb valgrind perf ab wrk hey k6 locust s3cmd rclone restic borg pg_dump pg_restore pg_isready mysqldump mongodump kubectx kubens crictl ctr nerdctl buildah skopeo trivy grype syft cosign ufw iptables nft firewall-cmd sysctl modprobe lsmod ulimit nmcli loginctl systemd-analyze chmod update-alternatives locale-gen docker-compose pip-compile pip-sync virtualenv pipx npm-check-updates ncu corepack volta fnm sdk sdkmanager adb fastlane pod carthage xcrun simctl swiftlint ktlint detekt spotless checkstyle pmd mvnw sbt lein mix elixir erl rebar3 stack cabal ghc ghci dune opam zig nim crystal dart julia Rscript R lua luarocks perl cpanm php-cs-fixer phpstan psalm artisan symfony wp drush terragrunt tflint tfsec checkov infracost atlantis chef knife puppet salt-call vagrant packer-io ssh-copy-id journalctl coredumpctl`)

func setOf(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

func init() {
	for k := range singlePrograms {
		programs[k] = true
	}
}

// rerunTold reports a sentence that tells a run as a repeat ("re-ran",
// "rebuilt", "… again"), where the command's flags are the news.
func rerunTold(sh string) bool {
	for _, w := range [...]string{"re-ran", "reran", "re-run", "rerun", "rebuilt", "re-executed", "again"} {
		if strings.Contains(sh, w) {
			return true
		}
	}
	return false
}

// flagsUnseen reports whether the claimed command has a flag that no
// execution or call matching it had. Matching ignores flags, which keeps
// loose retellings backed; a re-run with new flags is the case it hides.
// A single-dash cluster ("-xq") counts as seen when each of its letters
// appears among the runs' single-dash flags, so respellings stay backed.
func (c *checker) flagsUnseen(cmd string) bool {
	info := newCmdInfo(cmd)
	flags := cmdFlags(info.canon)
	if len(flags) == 0 || c.spent() {
		return false
	}
	c.lookups++
	seen := map[string]bool{}
	letters := ""
	any := false
	note := func(e *cmdInfo) {
		if !info.matches(e) {
			return
		}
		any = true
		for _, f := range cmdFlags(e.canon) {
			seen[f] = true
			if !strings.HasPrefix(f, "--") {
				letters += f[1:]
			}
		}
	}
	for _, e := range c.callInfos() {
		note(e)
	}
	for i := range c.d.execs {
		note(c.d.execs[i].prepared())
	}
	if !any {
		return false
	}
	for _, f := range flags {
		if seen[f] {
			continue
		}
		if !strings.HasPrefix(f, "--") && strings.Trim(f[1:], letters) == "" {
			continue
		}
		return true
	}
	return false
}

// cmdFlags returns a command's flag names, without values ("-count=5" is
// "-count").
func cmdFlags(canon string) []string {
	var out []string
	pipe := false
	for _, f := range strings.Fields(canon) {
		// only the first command of a pipeline counts, as in matching:
		// "| tail -n 50" is how the output was cut, not how the run went
		switch f {
		case "|":
			pipe = true
		case "&&", "||", ";":
			pipe = false
		}
		if pipe || len(f) < 2 || f[0] != '-' || f == "--" || f[1] >= '0' && f[1] <= '9' {
			continue
		}
		if i := strings.IndexByte(f, '='); i > 0 {
			f = f[:i]
		}
		out = append(out, f)
	}
	return out
}
