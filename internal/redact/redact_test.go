package redact

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"
)

// gen returns a deterministic string of n characters that looks like generated key
// material (mixed case and digits). Test secrets are built with it instead of being
// written out, so the test files themselves never contain anything a secret scanner
// would flag.
func gen(n int, seed uint32) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	x := seed*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = alphabet[x%uint32(len(alphabet))]
	}
	// Guarantee every class, whatever the seed.
	if n >= 3 {
		b[0], b[1], b[2] = 'Q', 'z', '7'
	}
	return string(b)
}

// Example credentials from vendors' documentation: recognisably fake, so safe to
// spell out.
const (
	awsKeyID  = "AKIAIOSFODNN7EXAMPLE"
	awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	jwtIO     = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	slackHook = "https://hooks.slack.com/services/" + "T00000000/B00000000/" + "XXXXXXXXXXXXXXXXXXXXXXXX"
)

var (
	openaiLegacy  = "sk-" + gen(48, 1)
	openaiProj    = "sk-proj-" + gen(40, 2) + "-" + gen(50, 3) + "_" + gen(60, 4)
	openaiSvc     = "sk-svcacct-" + gen(64, 5)
	anthropicKey  = "sk-ant-api03-" + gen(60, 6) + "-" + gen(32, 7) + "AA"
	anthropicAdm  = "sk-ant-admin01-" + gen(80, 8)
	ghp           = "ghp_" + gen(36, 9)
	githubPAT     = "github_pat_" + gen(22, 10) + "_" + gen(59, 11)
	slackBot      = "xoxb-" + "123456789012-1234567890123-" + gen(24, 12)
	pemBody       = "MIIEpAIBAAKCAQEA" + gen(48, 13) + "\n" + gen(64, 14) + "\n" + gen(40, 15) + "==\n"
	rsaKey        = "-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "-----END RSA PRIVATE KEY-----"
	opensshKey    = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA" + gen(40, 16) + "\n-----END OPENSSH PRIVATE KEY-----"
	ecKey         = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI" + gen(40, 17) + "\n-----END EC PRIVATE KEY-----"
	pkcs8Key      = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg" + gen(40, 18) + "\n-----END PRIVATE KEY-----"
	encryptedKey  = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0w" + gen(40, 19) + "\n-----END ENCRYPTED PRIVATE KEY-----"
	pgpKey        = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF" + gen(40, 20) + "\n-----END PGP PRIVATE KEY BLOCK-----"
	basicCreds    = "dXNlcjpzM2NyM3RwYXNzd29yZA=="
	opaqueSecret  = gen(24, 21)
	opaqueSecret2 = gen(32, 22)
)

func m(kind string) string { return "[REDACTED:" + kind + "]" }

type tcase struct {
	name, in, want string
	count          int
}

func positiveCases() []tcase {
	return []tcase{
		// AWS
		{"aws key id bare", "found " + awsKeyID + " in config", "found " + m("aws_access_key") + " in config", 1},
		{"aws session key id", "ASIA" + "Y34FZKBOKMUTVV7A", m("aws_access_key"), 1},
		{"aws key id env", "export AWS_ACCESS_KEY_ID=" + awsKeyID, "export AWS_ACCESS_KEY_ID=" + m("aws_access_key"), 1},
		{"aws secret ini", "aws_secret_access_key = " + awsSecret, "aws_secret_access_key = " + m("aws_secret_key"), 1},
		{"aws secret env", "AWS_SECRET_ACCESS_KEY=" + awsSecret + " aws s3 ls", "AWS_SECRET_ACCESS_KEY=" + m("aws_secret_key") + " aws s3 ls", 1},
		{"aws secret yaml", "AWS_SECRET_ACCESS_KEY: " + awsSecret, "AWS_SECRET_ACCESS_KEY: " + m("aws_secret_key"), 1},
		{"aws secret json", `"SecretAccessKey": "` + awsSecret + `",`, `"SecretAccessKey": "` + m("aws_secret_key") + `",`, 1},
		{"aws configure set", "aws configure set aws_secret_access_key " + awsSecret, "aws configure set aws_secret_access_key " + m("aws_secret_key"), 1},
		{"aws secret flag", "tool --aws-secret-access-key " + awsSecret, "tool --aws-secret-access-key " + m("aws_secret_key"), 1},

		// OpenAI and Anthropic
		{"openai legacy", "OPENAI=" + openaiLegacy, "OPENAI=" + m("openai_key"), 1},
		{"openai project", "key " + openaiProj + " end", "key " + m("openai_key") + " end", 1},
		{"openai service account", openaiSvc, m("openai_key"), 1},
		{"openai in env assignment", "export OPENAI_API_KEY=" + openaiProj, "export OPENAI_API_KEY=" + m("openai_key"), 1},
		{"anthropic api03", "ANTHROPIC=" + anthropicKey, "ANTHROPIC=" + m("anthropic_key"), 1},
		{"anthropic admin", `{"key":"` + anthropicAdm + `"}`, `{"key":"` + m("anthropic_key") + `"}`, 1},
		{"anthropic header", `curl -H "x-api-key: ` + anthropicKey + `"`, `curl -H "x-api-key: ` + m("anthropic_key") + `"`, 1},

		// GitHub and Slack
		{"github ghp", "token " + ghp, "token " + m("github_token"), 1},
		{"github gho ghu ghs ghr", "gho_" + gen(36, 30) + " ghu_" + gen(36, 31) + " ghs_" + gen(36, 32) + " ghr_" + gen(36, 33),
			m("github_token") + " " + m("github_token") + " " + m("github_token") + " " + m("github_token"), 4},
		{"github pat", "GH=" + githubPAT, "GH=" + m("github_token"), 1},
		{"github token env", "export GITHUB_TOKEN=" + ghp, "export GITHUB_TOKEN=" + m("github_token"), 1},
		{"token env opaque", "export GITHUB_TOKEN=" + opaqueSecret, "export GITHUB_TOKEN=" + m("assignment"), 1},
		{"npmrc", "//registry.npmjs.org/:_authToken=" + opaqueSecret, "//registry.npmjs.org/:_authToken=" + m("assignment"), 1},
		{"github token in remote", "https://x-access-token:" + ghp + "@github.com/o/r.git", "https://x-access-token:" + m("github_token") + "@github.com/o/r.git", 1},
		{"github auth header", `-H "Authorization: token ` + ghp + `"`, `-H "Authorization: token ` + m("github_token") + `"`, 1},
		{"slack bot", "SLACK=" + slackBot, "SLACK=" + m("slack_token"), 1},
		{"slack user app refresh session", "xoxp-1234567890-" + gen(20, 40) + " xoxa-2-" + gen(20, 41) + " xoxr-" + gen(20, 42) + " xoxs-" + gen(20, 43),
			m("slack_token") + " " + m("slack_token") + " " + m("slack_token") + " " + m("slack_token"), 4},
		{"slack webhook", "curl -X POST " + slackHook + " -d @msg.json", "curl -X POST https://hooks.slack.com/services/" + m("slack_token") + " -d @msg.json", 1},

		// PEM private keys
		{"rsa key", "$ cat id_rsa\n" + rsaKey + "\n$ ls", "$ cat id_rsa\n" + m("private_key") + "\n$ ls", 1},
		{"openssh key", opensshKey, m("private_key"), 1},
		{"ec key", "x " + ecKey + " y", "x " + m("private_key") + " y", 1},
		{"pkcs8 key", pkcs8Key, m("private_key"), 1},
		{"encrypted key", encryptedKey + "\n", m("private_key") + "\n", 1},
		{"pgp key", pgpKey, m("private_key"), 1},
		{"truncated key", "head\n-----BEGIN RSA PRIVATE KEY-----\n" + pemBody, "head\n" + m("private_key"), 1},
		{"json escaped key", `{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEv` + gen(30, 50) + `\n-----END PRIVATE KEY-----\n", "x": 1}`,
			`{"private_key": "` + m("private_key") + `\n", "x": 1}`, 1},
		{"two keys", rsaKey + "\n" + ecKey, m("private_key") + "\n" + m("private_key"), 2},
		{"mismatched end", "-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "-----END EC PRIVATE KEY-----\nrest", m("private_key"), 1},

		// JWT
		{"jwt bare", "id_token " + jwtIO, "id_token " + m("jwt"), 1},
		{"jwt in json", `{"access_token":"` + jwtIO + `","expires_in":3600}`, `{"access_token":"` + m("jwt") + `","expires_in":3600}`, 1},
		{"jwt unsigned", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", m("jwt"), 1},

		// URL credentials
		{"postgres url", "psql postgres://app:s3cr3t@db:5432/x", "psql postgres://app:" + m("url_credentials") + "@db:5432/x", 1},
		{"redis empty user", "redis://:hunter2@cache:6379/0", "redis://:" + m("url_credentials") + "@cache:6379/0", 1},
		{"mongodb srv", "mongodb+srv://admin:p4ss@cluster0.example.net/db?retryWrites=true", "mongodb+srv://admin:" + m("url_credentials") + "@cluster0.example.net/db?retryWrites=true", 1},
		{"at sign in password", "mysql://root:p@ss@db/x", "mysql://root:" + m("url_credentials") + "@db/x", 1},
		{"url at the start", "u://a:b@h", "u://a:" + m("url_credentials") + "@h", 1},
		{"authority right after another", "http://u:p@h://v:w@k", "http://u:" + m("url_credentials") + "@h://v:" + m("url_credentials") + "@k", 2},
		{"two urls on a line", "a https://x:y@h/p b\tredis://:z@c:1", "a https://x:" + m("url_credentials") + "@h/p b\tredis://:" + m("url_credentials") + "@c:1", 2},
		{"quoted url", `git clone 'https://bob:` + opaqueSecret + `@git.example.com/r.git'`, `git clone 'https://bob:` + m("url_credentials") + `@git.example.com/r.git'`, 1},

		// Named assignments
		{"password=", "password=hunter2", "password=" + m("assignment"), 1},
		{"uppercase", "PASSWORD=hunter2", "PASSWORD=" + m("assignment"), 1},
		{"passwd and pwd", "passwd=a1 pwd=b2", "passwd=" + m("assignment") + " pwd=" + m("assignment"), 2},
		{"colon space", "password: hunter2", "password: " + m("assignment"), 1},
		{"spaces around =", "token = " + opaqueSecret, "token = " + m("assignment"), 1},
		{"secret api_key apikey", "secret=a api_key=b apikey=c", "secret=" + m("assignment") + " api_key=" + m("assignment") + " apikey=" + m("assignment"), 3},
		{"access and client", "access_token=" + opaqueSecret + "&client_secret=" + opaqueSecret2 + "&grant=x",
			"access_token=" + m("assignment") + "&client_secret=" + m("assignment") + "&grant=x", 2},
		{"export env", "export DB_PASSWORD=" + opaqueSecret, "export DB_PASSWORD=" + m("assignment"), 1},
		{"env prefix", "MY_API_KEY=" + opaqueSecret + " ./run", "MY_API_KEY=" + m("assignment") + " ./run", 1},
		{"no separator prefix", "PGPASSWORD=" + opaqueSecret + " psql", "PGPASSWORD=" + m("assignment") + " psql", 1},
		{"camel case", "accessToken: " + opaqueSecret, "accessToken: " + m("assignment"), 1},
		{"secret key base", "SECRET_KEY_BASE=" + opaqueSecret, "SECRET_KEY_BASE=" + m("assignment"), 1},
		{"double quoted", `password="correct horse battery"`, `password="` + m("assignment") + `"`, 1},
		{"single quoted", `password='correct horse'`, `password='` + m("assignment") + `'`, 1},
		{"escaped quote", `password="a\"b c" next`, `password="` + m("assignment") + `" next`, 1},
		{"unterminated quote", `password="hunter2`, `password="` + m("assignment"), 1},
		{"json", `{"password":"hunter2","user":"bob"}`, `{"password":"` + m("assignment") + `","user":"bob"}`, 1},
		{"json spaced", `{"client_secret": "abc123"}`, `{"client_secret": "` + m("assignment") + `"}`, 1},
		{"flag space", "mysql --password hunter2 db", "mysql --password " + m("assignment") + " db", 1},
		{"flag equals", "gh auth --token=" + opaqueSecret, "gh auth --token=" + m("assignment"), 1},
		{"flag prefixed name", "tool --db-password 'x y'", "tool --db-password '" + m("assignment") + "'", 1},
		{"single dash flag", "gpg --batch -passphrase hunter2", "gpg --batch -passphrase " + m("assignment"), 1},
		{"gpg passphrase", "gpg --batch --passphrase hunter2 -d f", "gpg --batch --passphrase " + m("assignment") + " -d f", 1},
		{"kubectl literal", "kubectl create secret generic s --from-literal=password=hunter2", "kubectl create secret generic s --from-literal=password=" + m("assignment"), 1},
		{"docker env", `docker run -e "API_KEY=abc123" img`, `docker run -e "API_KEY=` + m("assignment") + `" img`, 1},
		{"header", `curl -H "X-Auth-Token: abc123" url`, `curl -H "X-Auth-Token: ` + m("assignment") + `" url`, 1},
		{"shell default is not a placeholder", "password=${DB_PASS:-hunter2}", "password=" + m("assignment"), 1},
		{"stops at semicolon", "token=abc;echo ok", "token=" + m("assignment") + ";echo ok", 1},

		// Authorization headers
		{"bearer", `curl -H "Authorization: Bearer ` + opaqueSecret + `" https://api`, `curl -H "Authorization: Bearer ` + m("bearer") + `" https://api`, 1},
		{"basic", `curl -H 'Authorization: Basic ` + basicCreds + `' https://api`, `curl -H 'Authorization: Basic ` + m("bearer") + `' https://api`, 1},
		{"lowercase http2", "authorization: bearer " + opaqueSecret, "authorization: bearer " + m("bearer"), 1},
		{"verbose curl", "> Authorization: Bearer " + opaqueSecret + "\r\n> Accept: */*", "> Authorization: Bearer " + m("bearer") + "\r\n> Accept: */*", 1},
		{"json header", `{"Authorization": "Bearer ` + opaqueSecret + `"}`, `{"Authorization": "Bearer ` + m("bearer") + `"}`, 1},
		{"proxy authorization", "Proxy-Authorization: Basic " + basicCreds, "Proxy-Authorization: Basic " + m("bearer"), 1},
		{"bearer jwt", "Authorization: Bearer " + jwtIO, "Authorization: Bearer " + m("jwt"), 1},

		// Mixtures
		{"several on a line", "A=" + awsKeyID + " password=x " + ghp, "A=" + m("aws_access_key") + " password=" + m("assignment") + " " + m("github_token"), 3},
		{"multi line", "line1\npassword=x\nline3 " + slackBot + "\n", "line1\npassword=" + m("assignment") + "\nline3 " + m("slack_token") + "\n", 2},
		{"overlap is united", "token=" + ghp + ":extra", "token=" + m("github_token"), 1},
		{"unicode around", "пароль password=тайна ✓", "пароль password=" + m("assignment") + " ✓", 1},
	}
}

func TestStringRedacts(t *testing.T) {
	for _, tc := range positiveCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := String(tc.in)
			if got != tc.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if n := Count(tc.in); n != tc.count {
				t.Errorf("Count(%q) = %d, want %d", tc.in, n, tc.count)
			}
			if again := String(got); again != got {
				t.Errorf("not idempotent:\n once  %q\n twice %q", got, again)
			}
			if n := Count(got); n != 0 {
				t.Errorf("Count(String(x)) = %d, want 0", n)
			}
		})
	}
}

func TestStringLeavesAlone(t *testing.T) {
	for _, in := range []string{
		"",
		"plain text with no secrets at all",
		// Hashes and identifiers that are long and random but not credentials.
		"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"commit 3f786850e387550fdab836ed7e6dc881de23001b",
		"git checkout e83c5163316f89bfbde7d9ab23ca2e25604af290",
		"request id 123e4567-e89b-12d3-a456-426614174000",
		"docker pull nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
		"md5 d41d8cd98f00b204e9800998ecf8427e  empty.txt",
		"ZGF0YTpsb25nIGJhc2U2NCBibG9iIHdpdGhvdXQgYW55IG1lYW5pbmc=",
		// Words that contain a keyword.
		"loading tokenizer from ./models/tokenizer.json",
		"see docs/password_policy.md for the rules",
		"max_tokens=4096 temperature=0.2",
		"usage: prompt_tokens: 12, completion_tokens: 30",
		"token_count: 5",
		"TOKEN_FILE=/run/secrets/token PASSWORD_FILE=/run/secrets/db",
		"secrets: 3 found",
		"kubectl get secret my-secret -o yaml",
		"docker login --password-stdin < pass.txt",
		"TOKENIZERS_PARALLELISM=false",
		"PWD=/home/agent/project OLDPWD=/home/agent",
		"the passwords are stored hashed",
		// Values that are references or placeholders.
		"password=$DB_PASSWORD",
		"--token ${GITHUB_TOKEN}",
		`curl -H "Authorization: Bearer $TOKEN" https://api`,
		"password=******** token=null secret=None api_key=false",
		"Authorization: Bearer",
		"password: ",
		"password=",
		`password=""`,
		// Comparisons and code.
		`if token == "" {`,
		"if token != expected {",
		"token := os.Getenv(\"TOKEN\")",
		// -p is a port, a profile or a prompt far more often than a password.
		"mysql -u root -p mydb",
		"ssh -p 2222 host",
		"mysql -u root -psecret",
		// URLs and addresses without credentials.
		"https://example.com/path?q=1&page=2",
		"https://github.com/clawtrail/clawtrail.git",
		"git@github.com:org/repo.git",
		"ssh://git@github.com/org/repo.git",
		"http://localhost:8080/health",
		"http://localhost:8080 -d user@example.com",
		"mail root:admin@example.com and user:x@host",
		"scp x:y@host:/tmp/a .",
		"mail dev@example.com",
		"npm install lodash@4.17.21 react@18.2.0",
		// Near misses of the token formats.
		"AKIAIOSFODNN7EXAMPL",
		"AKIAIOSFODNN7EXAMPLEX",
		"akiaiosfodnn7example",
		"XAKIAIOSFODNN7EXAMPLE",
		"pip install sk-learn-compatible-estimators",
		"task-force-alpha-bravo-charlie-delta",
		"sk-short",
		"ghp_notatoken",
		"xoxo-hugs-and-kisses",
		"xoxb-hugs-and-kisses-forever",
		"eyJhbGciOiJIUzI1NiJ9",
		"eyJ.x.y",
		"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
		"-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE\n-----END CERTIFICATE-----",
		"grep -r 'PRIVATE KEY' .",
		"https://hooks.slack.com/",
		// Already redacted.
		"password=[REDACTED:assignment]",
		"postgres://app:[REDACTED:url_credentials]@db:5432/x",
		"Authorization: Bearer [REDACTED:bearer]",
		"[REDACTED:github_token] [REDACTED:aws_secret_key]",
	} {
		got := String(in)
		if got != in {
			t.Errorf("String(%q) = %q, want it unchanged", in, got)
		}
		if n := Count(in); n != 0 {
			t.Errorf("Count(%q) = %d, want 0", in, n)
		}
	}
}

// TestNoAllocationWhenClean pins the contract that clean input comes back as the very
// same string, which is what keeps the common case cheap for callers.
func TestNoAllocationWhenClean(t *testing.T) {
	for _, in := range []string{
		shellOutput(64<<10, false),
		"loading tokenizer; see password_policy.md; sha 3f786850e387550fdab836ed7e6dc881de23001b",
		"ls -la /tmp",
	} {
		out := String(in)
		if unsafe.StringData(out) != unsafe.StringData(in) || len(out) != len(in) {
			t.Fatalf("String returned a copy of clean input (len %d)", len(in))
		}
		if raceEnabled() {
			continue // sync.Pool, which regexp uses, drops items at random under -race
		}
		if a := testing.AllocsPerRun(20, func() { _ = String(in) }); a != 0 {
			t.Errorf("String allocated %.1f times on clean input of %d bytes", a, len(in))
		}
	}
}

func raceEnabled() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "-race" {
				return st.Value == "true"
			}
		}
	}
	return false
}

func TestOutputBound(t *testing.T) {
	in := strings.Repeat("pwd=x ", 1000)
	out := String(in)
	if n := Count(in); n != 1000 {
		t.Fatalf("Count = %d, want 1000", n)
	}
	if limit := len(in) + Count(in)*maxMarkerLen(); len(out) > limit {
		t.Fatalf("output %d bytes, more than the bound %d", len(out), limit)
	}
}

func maxMarkerLen() int {
	n := 0
	for _, mk := range markers {
		n = max(n, len(mk))
	}
	return n
}

func TestShellOutputWithSecrets(t *testing.T) {
	in := shellOutput(64<<10, true)
	out := String(in)
	for _, secret := range []string{awsKeyID, awsSecret, ghp, openaiProj, slackBot, jwtIO, "s3cr3t-db-pass", pemBody[:40]} {
		if strings.Contains(out, secret) {
			t.Errorf("secret %.20q… survived", secret)
		}
	}
	if !utf8.ValidString(out) {
		t.Error("output is not valid UTF-8")
	}
	if String(out) != out {
		t.Error("not idempotent on shell output")
	}
}

// TestHostileInputStaysLinear feeds runs of near-miss prefixes that, scanned naively,
// would make every candidate rescan the rest of the input. It compares the time for
// 4 KiB and for 64 KiB of each (best of three after a collection, so a busy machine
// does not decide): linear work grows 16x, quadratic 256x; the bound, 64x, sits well
// between. Under the race detector, which alone makes 64 KiB cost 65–110x what 4 KiB
// costs here, the bound is 200x: a quadratic scan still lands far above it.
func TestHostileInputStaysLinear(t *testing.T) {
	best := func(in string) time.Duration {
		d := time.Duration(1 << 62)
		for range 3 {
			runtime.GC()
			start := time.Now()
			String(in)
			d = min(d, time.Since(start))
		}
		return d
	}
	for _, unit := range []string{
		"password=", "-sk-aaaaaaaaaaaaaaaaaaaaaa", "-eyJaaaaaaaaaa", "xoxb-aaaa-", "://", "a:b@",
		"-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "token", "--password ",
		"Authorization: ", "secret_access_key ", `'password': "`, "ghp_", "-ghp_a", "AKIA", "\"",
		"hooks.slack.com/services/a", "PRIVATE KEY", "=", " ", ".eyJaaaaaaaaa", "eyJaaaaaaaa.eyJaaaaaaaa.",
	} {
		in := strings.Repeat(unit, (64<<10)/len(unit))
		small, large := best(in[:len(in)/16]), best(in)
		factor := time.Duration(64)
		if raceEnabled() {
			factor = 200
		}
		if large > factor*small+20*time.Millisecond {
			t.Errorf("%q: 4 KiB took %v, 64 KiB took %v: grows faster than linear", unit, small, large)
		}
		out := String(in)
		if String(out) != out {
			t.Errorf("not idempotent on repeated %q", unit)
		}
	}
}

func TestConcurrent(t *testing.T) {
	cases := positiveCases()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				for _, tc := range cases {
					if got := String(tc.in); got != tc.want {
						t.Errorf("%s: got %q", tc.name, got)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// shellOutput builds size bytes of what an agent's commands typically print: listings,
// git logs, test runs, package manager and JSON logs, with hashes, UUIDs, URLs and
// words like "tokenizer" that come close to the patterns without being secrets. With
// secrets, a credential-bearing line is mixed in every so often.
func shellOutput(size int, secrets bool) string {
	// {a}, {b} and {c} stand for numbers that change from one repetition to the next.
	templates := []string{
		"-rw-r--r--  1 agent agent  {b} Jan  2 15:04 file_{a}.go\n",
		"drwxr-xr-x  4 agent agent   4096 Feb 11 09:{c} internal_{a}\n",
		"commit 3f786850e387550fdab836ed7e6dc881de23001b\nAuthor: Dev Person <dev{b}@example.com>\nDate:   Mon Jan 2 15:04:05 2024 +0000\n\n    fix: handle tokenizer edge case in parser (#{c})\n\n",
		"=== RUN   TestParse/case_{a}\n--- PASS: TestParse/case_{a} (0.00s)\n",
		"  Downloading https://files.pythonhosted.org/packages/ab/cd/requests-2.31.{a}-py3-none-any.whl ({b} kB)\n",
		"npm WARN deprecated glob@7.2.{a}: Glob versions prior to v9 are no longer supported\n",
		"internal/server/handler.go:{a}:{c}: undefined: ctx\n",
		`{"level":"info","ts":1700000000.{a},"msg":"request done","status":200,"duration_ms":{b},"request_id":"123e4567-e89b-12d3-a456-426614174000","path":"/api/v1/items"}` + "\n",
		"Step {c}/60 : RUN go build -o /out/app ./cmd/app && sha256sum /out/app\n",
		" ---> Using cache\n ---> 9f86d081884c\n",
		"   Compiling serde v1.0.{a}\n   Compiling tokio v1.{c}.0\n",
		"PASS\nok  \tgithub.com/example/project/internal/store\t0.{a}s coverage: {c}.0% of statements\n",
		"Total tokens: {a}, max_tokens={b}, see docs/password_policy.md\n",
		"Cloning into 'repo'...\nremote: Enumerating objects: {b}, done.\nReceiving objects: 100% ({b}/{b}), done.\n",
	}
	secretLines := []string{
		"export AWS_ACCESS_KEY_ID=" + awsKeyID + "\nexport AWS_SECRET_ACCESS_KEY=" + awsSecret + "\n",
		"remote: https://bot:" + ghp + "@github.com/org/repo.git\n",
		`curl -s -H "Authorization: Bearer ` + openaiProj + `" https://api.openai.com/v1/models` + "\n",
		"DATABASE_URL=postgres://app:s3cr3t-db-pass@db:5432/app\n",
		"slack: " + slackBot + " token=" + jwtIO + "\n",
		"-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "-----END RSA PRIVATE KEY-----\n",
	}
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		if secrets && i%25 == 24 {
			b.WriteString(secretLines[(i/25)%len(secretLines)])
			continue
		}
		strings.NewReplacer("{a}", strconv.Itoa(i), "{b}", strconv.Itoa(i*7), "{c}", strconv.Itoa(i*13%60)).
			WriteString(&b, templates[i%len(templates)])
	}
	s := b.String()
	return s[:strings.LastIndexByte(s[:size], '\n')+1]
}

func BenchmarkString(b *testing.B) {
	for _, bc := range []struct {
		name    string
		secrets bool
	}{{"clean_64KiB", false}, {"secrets_64KiB", true}} {
		in := shellOutput(64<<10, bc.secrets)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				_ = String(in)
			}
		})
	}
	b.Run("command", func(b *testing.B) {
		in := `cd /work/app && go test ./... -run TestParse -count=1 2>&1 | tail -n 40`
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			_ = String(in)
		}
	})
}
