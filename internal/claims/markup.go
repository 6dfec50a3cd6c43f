package claims

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Tool-call markup printed as text means the model wrote a call instead of
// making one (anthropics/claude-code#67730: `<invoke name="Bash">` as plain
// text, followed by invented output). The shapes below are the call syntaxes
// of the model families seen in transcripts: Anthropic XML, Hermes/Qwen
// `<tool_call>` JSON, Llama's JSON after `<|python_tag|>`, bare
// OpenAI-style `{"name":..., "arguments":...}` objects, the XML of
// Qwen3-Coder and OpenHands (`<function=execute_bash>` with
// `<parameter=command>`), and CodeAct's `<execute_bash>` block.
var (
	reMarkupTag  = regexp.MustCompile(`<(?:[a-z]+:)?(?:invoke\s+name\s*=|function_calls\s*>|tool_call\s*>|tool_use\s*>|function=[A-Za-z_][\w.-]{0,63}>|execute_bash>)`)
	reParamEqCmd = regexp.MustCompile(`<parameter=(?:command|cmd)>([\s\S]*?)</parameter>`)
	reInvokeName = regexp.MustCompile(`^<(?:[a-z]+:)?invoke\s+name\s*=\s*["']([^"']{1,64})["']`)
	reParamCmd   = regexp.MustCompile(`<(?:[a-z]+:)?parameter\s+name\s*=\s*["'](?:command|cmd)["']\s*>([\s\S]*?)</(?:[a-z]+:)?parameter>`)
	reJSONName   = regexp.MustCompile(`"(?:name|tool|tool_name)"\s*:\s*"([A-Za-z_.-]{1,64})"`)
	reJSONCmdKey = regexp.MustCompile(`"(?:command|cmd)"\s*:\s*`)
	reJSONShape  = regexp.MustCompile(`"(?:arguments|parameters|input|args)"\s*:|"type"\s*:\s*"(?:toolCall|tool_call|tool_use|function_call|function)"`)
	reMarkupDoc  = regexp.MustCompile(`\b(?:format|formats|schema|syntax|template|structure|shape|looks? like|example|examples|e\.g\.|for instance|such as|like this|like so|sample|illustrat\w*|spec|specification|emits?|emitted|documented|docs|stores?|stored|wraps?|parser|parses|represent\w*|encod\w*|serializ\w*)\b|\bas\s*:$`)
)

var shellTools = setOf(`exec bash shell sh terminal run_shell_command run_command execute_command exec_command shell_command run_terminal_cmd execute local_shell powershell cmd container.exec run_in_terminal execute_bash`)

const maxMarkupRegion = 16 << 10

type region struct{ s, e int }

// scanMarkup reports tool-call markup written as text.
func (c *checker) scanMarkup() {
	t := c.text
	var done []region
	for _, m := range reMarkupTag.FindAllStringIndex(t, maxMarkup) {
		p := m[0]
		if c.spent() {
			return
		}
		if inRegions(done, p) || !c.markupPlaced(p) {
			continue
		}
		tag := t[m[0]:m[1]]
		switch {
		case strings.Contains(tag, "function="):
			// Qwen3-Coder / OpenHands: <function=NAME><parameter=command>…
			end, closed := closeTag(t, p, "function>")
			cmd := ""
			if pm := reParamEqCmd.FindStringSubmatch(t[p:end]); pm != nil {
				cmd = htmlUnescape(strings.TrimSpace(pm[1]))
			} else if !closed {
				continue // a mention of the syntax, not a call
			}
			c.markup(cmd, p, end)
			done = append(done, region{p, end})
		case strings.Contains(tag, "execute_bash"):
			end, closed := closeTag(t, p, "execute_bash>")
			inner := t[m[1]:end]
			if closed {
				inner = inner[:max(0, strings.LastIndex(inner, "</"))]
			}
			if inner = strings.TrimSpace(inner); !closed || inner == "" {
				continue
			}
			c.markup(htmlUnescape(inner), p, end)
			done = append(done, region{p, end})
		case strings.Contains(tag, "invoke"):
			end, _ := closeTag(t, p, "invoke>")
			cmd := ""
			nm := reInvokeName.FindStringSubmatch(t[p:min(len(t), p+200)])
			if pm := reParamCmd.FindStringSubmatch(t[p:end]); pm != nil {
				cmd = htmlUnescape(strings.TrimSpace(pm[1]))
			} else if nm == nil {
				continue
			}
			c.markup(cmd, p, end)
			done = append(done, region{p, end})
		case strings.Contains(tag, "function_calls"):
			end, closed := closeTag(t, p, "function_calls>")
			if !strings.Contains(t[p:end], "invoke") {
				if !closed {
					continue // a mention of the tag, not a block
				}
				c.markup("", p, end)
				done = append(done, region{p, end})
			}
		default: // <tool_call>, <tool_use>
			name := "tool_call>"
			if strings.Contains(tag, "tool_use") {
				name = "tool_use>"
			}
			end, _ := closeTag(t, p, name)
			inner := strings.TrimSpace(t[m[1]:end])
			if !strings.HasPrefix(inner, "{") {
				continue
			}
			cmd, _ := jsonCall(inner)
			c.markup(cmd, p, end)
			done = append(done, region{p, end})
		}
	}
	if !strings.Contains(t, `"command"`) && !strings.Contains(t, `"cmd"`) && !strings.Contains(t, `command\"`) {
		return
	}
	for _, m := range reJSONName.FindAllStringSubmatchIndex(t, maxMarkup) {
		p := m[0]
		if c.spent() {
			return
		}
		if inRegions(done, p) || !shellTools[strings.ToLower(t[m[2]:m[3]])] {
			continue
		}
		open := strings.LastIndexByte(t[max(0, p-200):p], '{')
		if open < 0 {
			continue
		}
		open += max(0, p-200)
		end := min(len(t), p+maxMarkupRegion)
		cmd, ok := jsonCall(t[open:end])
		if !ok || cmd == "" || !c.markupPlaced(open) {
			continue
		}
		c.markup(cmd, open, min(len(t), open+maxExcerpt))
		done = append(done, region{open, open + jsonSpan(t[open:end])})
	}
}

func inRegions(rs []region, p int) bool {
	for _, r := range rs {
		if p >= r.s && p < r.e {
			return true
		}
	}
	return false
}

// closeTag returns the end of the element opened at p and whether it is
// closed; an unclosed element extends over a bounded region.
func closeTag(t string, p int, name string) (int, bool) {
	lim := min(len(t), p+maxMarkupRegion)
	for j := p; j < lim; {
		k := strings.Index(t[j:lim], name)
		if k < 0 {
			break
		}
		j += k
		pre := t[max(p, j-20):j]
		if strings.HasSuffix(pre, "</") {
			return j + len(name), true
		}
		if c := strings.LastIndex(pre, "</"); c >= 0 && isPrefixTag(pre[c+2:]) {
			return j + len(name), true
		}
		j += len(name)
	}
	return lim, false
}

// isPrefixTag reports a namespace prefix such as "x:".
func isPrefixTag(s string) bool {
	if len(s) < 2 || s[len(s)-1] != ':' {
		return false
	}
	for i := 0; i < len(s)-1; i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// markupPlaced decides whether markup at p was written as a call. Markup
// inside inline code is a mention. Inside a fenced block it counts only when
// the block is nothing but the call and the prose does not present it as an
// example or format description.
func (c *checker) markupPlaced(p int) bool {
	t := c.text
	ls := strings.LastIndexByte(t[:p], '\n') + 1
	for _, f := range c.fences {
		if p >= f.bodyStart && p < f.bodyEnd {
			body := strings.TrimSpace(t[f.bodyStart:f.bodyEnd])
			if body == "" || !strings.ContainsAny(body[:1], "<{[") {
				return false
			}
			return !c.docContext(f.start)
		}
	}
	if strings.Count(t[ls:p], "`")%2 == 1 {
		return false
	}
	return !reMarkupDoc.MatchString(strings.ToLower(t[ls:p]))
}

// docContext reports whether the prose before position p (the previous
// non-blank line) describes or teaches rather than acts.
func (c *checker) docContext(p int) bool {
	t := c.text
	e := p
	for e > 0 {
		ls := strings.LastIndexByte(t[:e-1], '\n') + 1
		line := strings.TrimSpace(t[ls : e-1])
		if line != "" {
			l := strings.ToLower(line)
			return reMarkupDoc.MatchString(l) || implicitGuard(l, 0, true, nil)
		}
		e = ls
		if e == 0 {
			break
		}
	}
	return false
}

func (c *checker) markup(cmd string, start, end int) {
	if cmd != "" && c.callMatches(cmd) {
		return // the call was made; the text only echoes it
	}
	c.add(reasonMarkup, cmd, start, end)
}

// jsonCall reads the shell command of a JSON tool call at the start of s.
// ok is false when s does not start with a call-shaped object.
func jsonCall(s string) (cmd string, ok bool) {
	n := jsonSpan(s)
	if n == 0 {
		return "", false
	}
	obj := s[:n]
	if !reJSONShape.MatchString(obj) && !reJSONCmdKey.MatchString(obj) {
		return "", false
	}
	nm := reJSONName.FindStringSubmatch(obj)
	if nm == nil {
		return "", false
	}
	if !shellTools[strings.ToLower(nm[1])] {
		return "", true
	}
	var whole any
	if json.Unmarshal([]byte(obj), &whole) == nil {
		if cmd := findCommand(whole, 0); cmd != "" {
			return cmd, true
		}
	}
	loc := reJSONCmdKey.FindStringIndex(obj)
	if loc == nil {
		return "", true
	}
	v := obj[loc[1]:]
	dec := json.NewDecoder(strings.NewReader(v))
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return "", true
	}
	switch x := raw.(type) {
	case string:
		return x, true
	case []any:
		var parts []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				parts = append(parts, s)
			}
		}
		// ["bash", "-lc", "cmd"] runs cmd
		if len(parts) == 3 && (parts[0] == "bash" || parts[0] == "sh" || parts[0] == "zsh") && strings.HasPrefix(parts[1], "-") {
			return parts[2], true
		}
		return strings.Join(parts, " "), true
	}
	return "", true
}

// findCommand looks for a command or cmd member anywhere in a decoded call,
// decoding arguments that OpenAI-style calls carry as a JSON string.
func findCommand(v any, depth int) string {
	if depth > 6 {
		return ""
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range []string{"command", "cmd"} {
			if cv, ok := x[k]; ok {
				if s := commandValue(cv); s != "" {
					return s
				}
			}
		}
		for _, cv := range x {
			if s, ok := cv.(string); ok && strings.HasPrefix(strings.TrimSpace(s), "{") {
				var inner any
				if json.Unmarshal([]byte(s), &inner) == nil {
					if r := findCommand(inner, depth+1); r != "" {
						return r
					}
				}
				continue
			}
			if r := findCommand(cv, depth+1); r != "" {
				return r
			}
		}
	}
	return ""
}

func commandValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var parts []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				parts = append(parts, s)
			}
		}
		// ["bash", "-lc", "cmd"] runs cmd
		if len(parts) == 3 && (parts[0] == "bash" || parts[0] == "sh" || parts[0] == "zsh") && strings.HasPrefix(parts[1], "-") {
			return parts[2]
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// jsonSpan returns the length of the balanced {...} at the start of s, or 0.
func jsonSpan(s string) int {
	if s == "" || s[0] != '{' {
		return 0
	}
	depth := 0
	inStr := false
	for i := 0; i < len(s) && i < maxMarkupRegion; i++ {
		ch := s[i]
		if inStr {
			switch ch {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch ch {
		case '"':
			inStr = true
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return 0
}

func htmlUnescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&amp;", "&").Replace(s)
}

// reToolCode is Gemini's tool_code call, Python written as text:
// print(default_api.run_shell_command(command='npm ci')).
var reToolCode = regexp.MustCompile(`\bdefault_api\.([A-Za-z_][\w]{0,63})\(\s*(?:command|cmd)\s*=\s*(?:'((?:[^'\\\n]|\\.){0,1000})'|"((?:[^"\\\n]|\\.){0,1000})")`)

// scanToolCode reports Gemini tool_code calls of a shell tool printed as
// text, placed as the other markup is: alone in a fenced block not
// introduced as a format or example, or on a line of prose that does not
// present it.
func (c *checker) scanToolCode() {
	t := c.text
	for _, m := range reToolCode.FindAllStringSubmatchIndex(t, maxMarkup) {
		if c.spent() {
			return
		}
		if !shellTools[strings.ToLower(t[m[2]:m[3]])] || !c.toolCodePlaced(m[0]) {
			continue
		}
		cmd := ""
		if m[4] >= 0 {
			cmd = strings.ReplaceAll(t[m[4]:m[5]], `\'`, `'`)
		} else {
			cmd = strings.ReplaceAll(t[m[6]:m[7]], `\"`, `"`)
		}
		c.markup(strings.TrimSpace(cmd), m[0], m[1])
	}
}

func (c *checker) toolCodePlaced(p int) bool {
	t := c.text
	for _, f := range c.fences {
		if p >= f.bodyStart && p < f.bodyEnd {
			for _, l := range strings.Split(t[f.bodyStart:f.bodyEnd], "\n") {
				if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, "default_api.") {
					return false // code that uses the API, not a call
				}
			}
			return !c.docContext(f.start)
		}
	}
	ls := strings.LastIndexByte(t[:p], '\n') + 1
	if strings.Count(t[ls:p], "`")%2 == 1 {
		return false
	}
	return !reMarkupDoc.MatchString(strings.ToLower(t[ls:p]))
}
