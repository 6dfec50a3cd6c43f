package claims

import "testing"

func TestMatches(t *testing.T) {
	cases := []struct {
		claim, exec string
		want        bool
	}{
		{"npm test", "npm test", true},
		{"npm  test ", "npm test", true},
		{"npm test", "cd /srv/app && npm test -- --runInBand 2>&1 | tail -n 30", true},
		{"npm test", "npm run test", true},
		{"pytest", "python -m pytest -q tests/", true},
		{"git log", "git log --oneline -n 10", true},
		{"go test ./... -run TestX -v", "go test ./... -run TestX", true},
		{"kubectl get pods -n prod", "kubectl -n prod get pods", true},
		{"ls", "ls -la /tmp", true},
		{"docker images | head -3", "docker images", true},
		{"npm ci && npm test", "npm ci && npm test", true},
		{"bash -lc 'make check'", "make check", true},
		{"npx tsc --noEmit", "tsc --noEmit", true},
		{"sudo apt-get update", "apt-get update", true},
		// The first argument may sit anywhere among the other's arguments
		// (flags with values move it), so this loose pair matches too: a
		// missed claim is cheaper than a false accusation.
		{"docker ps", "docker compose ps", true},
		// different commands
		{"npm run lint", "npm run build", false},
		{"npm run test:e2e", "npm run test", false},
		{"python manage.py migrate", "python manage.py makemigrations", false},
		{"./gradlew test", "./gradlew assemble", false},
		{"git status", "git log", false},
		{"ls", "tools --list", false},
		{"cat a.txt", "cat b.txt", false},
		{"", "ls", false},
	}
	for _, c := range cases {
		claim, exec := newCmdInfo(c.claim), newCmdInfo(c.exec)
		if got := claim.matches(&exec); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.claim, c.exec, got, c.want)
		}
	}
}

func TestSegsCoveredAcrossCalls(t *testing.T) {
	a, b := newCmdInfo("npm ci"), newCmdInfo("npm test")
	claim := newCmdInfo("npm ci && npm test")
	if !segsCovered(claim.segs, []*cmdInfo{&a, &b}) {
		t.Error("a chain run as two calls should be covered")
	}
	if segsCovered(newCmdInfo("npm ci && npm run lint").segs, []*cmdInfo{&a, &b}) {
		t.Error("a chain with a command that never ran should not be covered")
	}
}

func TestIsCommandLike(t *testing.T) {
	yes := []string{"ls", "make", "npm test", "go test ./...", "git log --oneline -5", "./gradlew", "./scripts/deploy.sh",
		"./deploy.sh staging", "/usr/bin/env python3", "$ df -h", "FOO=1 make build", "sudo systemctl restart nginx",
		"mytool --check", "deploy.sh --prod", "kubectl get pods -n prod", "curl -s http://localhost:8080/healthz"}
	no := []string{"", "parseConfig", "config.go", "Server", "user_id", "timeout", "test", "./src", "/etc/hosts",
		"permission denied", "foo bar", "const x = 1", "fmt.Println(x)", "x := 1", "SELECT * FROM users",
		"error TS2345", "HTTP/2 200", "cache-control: max-age=604800", "api:latest", "@scope/pkg", "a\nb"}
	for _, s := range yes {
		if !isCommandLike(s) {
			t.Errorf("isCommandLike(%q) = false, want true", s)
		}
	}
	for _, s := range no {
		if isCommandLike(s) {
			t.Errorf("isCommandLike(%q) = true, want false", s)
		}
	}
}

func TestNormalizeCommand(t *testing.T) {
	for in, want := range map[string]string{
		"  npm   test ": "npm test",
		"$ ls -la":      "ls -la",
		"❯ git status":  "git status",
		"a\n\tb":        "a b",
		"":              "",
	} {
		if got := normalizeCommand(in); got != want {
			t.Errorf("normalizeCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPromptCommand(t *testing.T) {
	for in, want := range map[string]string{
		"$ npm test":                      "npm test",
		"(.venv) $ pytest -q":             "pytest -q",
		"user@devbox:~/app$ docker ps":    "docker ps",
		"root@web-1:/srv# systemctl stop": "systemctl stop",
		`PS C:\repo> dotnet test`:         "dotnet test",
		`C:\app> npm -v`:                  "npm -v",
		"❯ git status":                    "git status",
		"Total: $ 12":                     "",
		"  % Total    % Received":         "",
		"# comment":                       "",
		"output line":                     "",
	} {
		if got := promptCommand(in); got != want {
			t.Errorf("promptCommand(%q) = %q, want %q", in, got, want)
		}
	}
}
