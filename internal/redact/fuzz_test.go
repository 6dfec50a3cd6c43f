package redact

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// plant is a line carrying a secret, and the part of it that must not survive
// redaction wherever it is planted.
type plant struct{ line, secret string }

func plants() []plant {
	return []plant{
		{"export AWS_ACCESS_KEY_ID=" + awsKeyID, awsKeyID},
		{"aws_secret_access_key = " + awsSecret, awsSecret},
		{"aws configure set aws_secret_access_key " + awsSecret, awsSecret},
		{"OPENAI_API_KEY=" + openaiLegacy, openaiLegacy[3:]},
		{"key: " + openaiProj, openaiProj[8:]},
		{anthropicKey, anthropicKey[13:]},
		{"git push https://" + ghp + "@github.com/o/r", ghp[4:]},
		{githubPAT, githubPAT[11:]},
		{"SLACK_BOT=" + slackBot, slackBot[5:]},
		{"curl -d @m.json " + slackHook, "XXXXXXXXXXXXXXXXXXXXXXXX"},
		{rsaKey, pemBody[16:60]},
		{opensshKey, "b3BlbnNzaC1rZXktdjEAAAAA"},
		{"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIcutshort" + gen(30, 60), gen(30, 60)},
		{"id_token=" + jwtIO, jwtIO[37:]},
		{"postgres://app:pg-" + opaqueSecret + "@db:5432/app", opaqueSecret},
		{"password=" + opaqueSecret2, opaqueSecret2},
		{`DB_PASSWORD="` + opaqueSecret2 + ` and more"`, opaqueSecret2},
		{"mysql --password " + opaqueSecret, opaqueSecret},
		{`{"client_secret": "` + opaqueSecret + `"}`, opaqueSecret},
		{`curl -H "Authorization: Bearer ` + opaqueSecret2 + `"`, opaqueSecret2},
		{"Authorization: Basic " + basicCreds, basicCreds},
	}
}

// FuzzString checks the properties the ledger relies on for any input: no panic,
// valid UTF-8 in gives valid UTF-8 out, bounded growth, idempotence (a record
// redacted twice reads the same), and that a known secret planted anywhere in
// arbitrary text, on a line of its own, never survives.
func FuzzString(f *testing.F) {
	for _, tc := range positiveCases() {
		f.Add(tc.in, uint8(0), uint16(0))
	}
	for i, p := range plants() {
		f.Add(p.line, uint8(i), uint16(i*7))
	}
	for _, s := range []string{
		"",
		shellOutput(2048, true),
		"password=[REDACTED:assignment]xyz",
		"token=a-----BEGIN PRIVATE KEY----- x -----END PRIVATE KEY-----zzz",
		"https://[REDACTED:x]:pw@h",
		"ghp_" + gen(36, 70) + "AKIAIOSFODNN7EXAMPLE",
		"-sk-" + gen(30, 71) + "-sk-" + gen(30, 72),
		"to\u212Aen=abc \u017Fecret=def",
		"PASSWORD=\xff\xfe",
		"Authorization: Bearer\tx\"y",
		`password="a\`,
		"--password --token x",
	} {
		f.Add(s, uint8(3), uint16(5))
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		f.Add(assemble(r, 12), uint8(r.IntN(256)), uint16(r.IntN(1<<16)))
	}
	ps := plants()
	f.Fuzz(func(t *testing.T, in string, pick uint8, at uint16) {
		out := String(in)
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of valid input %q: %q", in, out)
		}
		n := Count(in)
		if len(out) > len(in)+n*maxMarkerLen() {
			t.Fatalf("output grew past the bound: %d bytes in, %d secrets, %d bytes out", len(in), n, len(out))
		}
		if n == 0 && out != in {
			t.Fatalf("Count is 0 but String changed %q to %q", in, out)
		}
		if again := String(out); again != out {
			t.Fatalf("not idempotent on %q:\n once  %q\n twice %q", in, out, again)
		}

		p := ps[int(pick)%len(ps)]
		k := int(at) % (len(in) + 1)
		for k > 0 && k < len(in) && !utf8.RuneStart(in[k]) {
			k--
		}
		planted := in[:k] + "\n" + p.line + "\n" + in[k:]
		got := String(planted)
		// The surrounding text may contain the secret itself; only more occurrences
		// than it had can have come from the plant.
		if strings.Count(got, p.secret) > strings.Count(in[:k], p.secret)+strings.Count(in[k:], p.secret) {
			t.Fatalf("planted secret %q survived in %q", p.secret, got)
		}
	})
}

// fragments are the pieces the detectors react to. Byte-level fuzzing rarely puts
// several of them side by side, which is where idempotence is hardest to keep (a
// marker shortening the name after it, a key ending right where a name begins), so
// the tests below assemble them directly.
var fragments = []string{
	"password", "token", "secret", "api_key", "aws_secret_access_key", "access_token", "passphrase", "pwd",
	"PGPASSWORD", "x-api-key", "PWD", "OLDPWD", "key", "_value", "Authorization", "Proxy-", "Bearer ", "Basic",
	"=", "==", ":", ": ", " ", "\t", "\n", "\r", "\"", "'", "`", "\\", "\\\"", "=\"", "--", "-", "-p", "--token",
	"--password ", "$", "${", "}", "(", ";", "&", "?", "#", "*", "@", "://", "https", "postgres", "/", ".", "_",
	"[REDACTED:", "]", "[REDACTED:assignment]", "null", "x", "u", "pw", "0", "A", "é", "\u212A", "\xff",
	"ghp_", "github_pat_", "sk-", "sk-ant-", "sk-proj-", "AKIA", "ASIA", "IOSFODNN7EXAMPLE", awsSecret,
	"xoxb-", "123456789012", "eyJ", "eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiIxIn0", "hooks.slack.com/services/",
	"-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----",
	"-----BEGIN EC PRIVATE KEY-----", "-----END EC PRIVATE KEY-----", " PRIVATE KEY-----", "-----BEGIN ",
	"-----END ", gen(36, 80), gen(24, 81), gen(20, 82) + "-",
}

func assemble(r *rand.Rand, max int) string {
	var b strings.Builder
	for n := r.IntN(max + 1); n > 0; n-- {
		b.WriteString(fragments[r.IntN(len(fragments))])
	}
	return b.String()
}

func TestIdempotentOnFragments(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 40000 {
		in := assemble(r, 14)
		out := String(in)
		if again := String(out); again != out {
			t.Fatalf("not idempotent on %q:\n once  %q\n twice %q", in, out, again)
		}
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of valid input %q: %q", in, out)
		}
	}
}

func TestPlantedSecretsNeverSurvive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ps := plants()
	for range 40000 {
		in := assemble(r, 10)
		p := ps[r.IntN(len(ps))]
		k := r.IntN(len(in) + 1)
		for k > 0 && k < len(in) && !utf8.RuneStart(in[k]) {
			k--
		}
		got := String(in[:k] + "\n" + p.line + "\n" + in[k:])
		if strings.Count(got, p.secret) > strings.Count(in[:k], p.secret)+strings.Count(in[k:], p.secret) {
			t.Fatalf("planted secret %q survived in %q", p.secret, got)
		}
	}
}

// FuzzPrivateKeyWords: the search by the rarest byte finds exactly what
// strings.Contains finds.
func FuzzPrivateKeyWords(f *testing.F) {
	for _, s := range []string{"PRIVATE KEY", "xPRIVATE KEY", "PRIVATE KE", "VVVPRIVATE KEY", "PRIVATEVKEY", "V", "", "-----BEGIN RSA PRIVATE KEY-----"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := hasPrivateKeyWords(s), strings.Contains(s, "PRIVATE KEY"); got != want {
			t.Fatalf("hasPrivateKeyWords(%q) = %v, strings.Contains says %v", s, got, want)
		}
	})
}
