package provider

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var allClasses = []Class{RateLimit, QuotaExhausted, BudgetCap, Auth, Overloaded, Timeout, Other}

const cloudflare524 = `524 <!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<html class="no-js" lang="en-US">
<head>
<title>api.example-llm.com | 524: A timeout occurred</title>
<meta charset="UTF-8" />
<link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/cf.errors.css" />
</head>
<body>
<div id="cf-wrapper">
<h1><span class="cf-error-type">Error</span> <span class="cf-error-code">524</span></h1>
<h2 class="cf-subheadline">A timeout occurred</h2>
<p>The origin web server timed out responding to this request.</p>
<p>Please try again in a few minutes.</p>
<span>Cloudflare Ray ID: <strong>8f3a1b2c4d5e6f70</strong></span>
</div>
</body>
</html>`

const cloudflare502 = `<!DOCTYPE html>
<html lang="en-US">
<head>
<title>openrouter.ai | 502: Bad gateway</title>
<meta http-equiv="X-UA-Compatible" content="IE=Edge" />
</head>
<body>
<h1><span class="cf-error-type">Bad gateway</span> <span class="cf-error-code">Error code 502</span></h1>
<p>The web server reported a bad gateway error.</p>
<p>Visit <a href="https://www.cloudflare.com/5xx-error-landing/">cloudflare.com</a> for more information.</p>
</body>
</html>`

const nginx504 = `<html>
<head><title>504 Gateway Time-out</title></head>
<body>
<center><h1>504 Gateway Time-out</h1></center>
<hr><center>nginx</center>
</body>
</html>`

// classifyTests is shared with TestMatcherWindows, which reuses the
// messages as realistic matcher input.
var classifyTests = []struct {
	name string
	msg  string
	want Class
}{
	// OpenAI
	{"openai quota prose", `429 You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.`, QuotaExhausted},
	{"openai quota json", `429 {"error":{"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`, QuotaExhausted},
	{"openai tpm", `429 Rate limit reached for gpt-4o in organization org-AbC123 on tokens per min (TPM): Limit 30000, Used 28911, Requested 3200. Please try again in 4.222s. Visit https://platform.openai.com/account/rate-limits to learn more.`, RateLimit},
	{"openai rpd links billing", `429 Rate limit reached for gpt-4o-mini in organization org-AbC123 on requests per day (RPD): Limit 200, Used 200, Requested 1. Please try again in 7m12s. Visit https://platform.openai.com/account/rate-limits to learn more. You can increase your rate limit by adding a payment method to your account at https://platform.openai.com/account/billing.`, RateLimit},
	{"openai rate json", `429 {"error":{"message":"Rate limit reached for gpt-4.1 on requests per min (RPM): Limit 500, Used 500, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, RateLimit},
	{"openai hard limit", `400 {"error":{"message":"Billing hard limit has been reached","type":"invalid_request_error","param":null,"code":"billing_hard_limit_reached"}}`, BudgetCap},
	{"openai bad key", `401 Incorrect API key provided: sk-proj-****************abcd. You can find your API key at https://platform.openai.com/account/api-keys.`, Auth},
	{"openai server error", `500 The server had an error while processing your request. Sorry about that!`, Overloaded},
	{"openai engine overloaded", `503 The engine is currently overloaded, please try again later`, Overloaded},
	{"openai sdk connection error", `Connection error.`, Timeout},
	{"openai sdk request timed out", `Request timed out.`, Timeout},
	{"openai no body 402", `402 status code (no body)`, QuotaExhausted},
	{"openai model 404", `404 The model ` + "`gpt-9`" + ` does not exist or you do not have access to it.`, Other},
	{"openai context length", `400 This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.`, Other},

	// Anthropic
	{"anthropic rate limit", `429 {"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization (1b2c3d4e) of 50,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits."}}`, RateLimit},
	{"anthropic credit balance", `400 {"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}`, QuotaExhausted},
	{"anthropic escaped ampersand", `{"type":"error","error":{"type":"invalid_request_error","message":"Please go to Plans \u0026 Billing to upgrade."}}`, QuotaExhausted},
	{"anthropic spend limit", `400 {"type":"error","error":{"type":"invalid_request_error","message":"You have reached your specified API usage limits. You will regain access on 2026-07-01 at 00:00 UTC."}}`, BudgetCap},
	{"anthropic overloaded", `529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CAbc"}`, Overloaded},
	{"anthropic overloaded mid-stream", `{"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"}}`, Overloaded},
	{"anthropic bad key", `401 {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`, Auth},
	{"anthropic permission", `403 {"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}`, Auth},
	{"anthropic api_error", `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`, Overloaded},
	{"anthropic thinking budget is a bad request", `400 {"type":"error","error":{"type":"invalid_request_error","message":"` + "`max_tokens`" + ` must be greater than ` + "`thinking.budget_tokens`" + `."}}`, Other},
	{"claude subscription usage limit", `Claude AI usage limit reached|1767225600`, BudgetCap},
	{"claude extra usage", `400 {"type":"error","error":{"type":"invalid_request_error","message":"You're out of extra usage. Add more at claude.ai/settings/usage and keep going."}}`, QuotaExhausted},

	// Gemini / Vertex
	{"gemini per-minute free tier", `429 {"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_input_token_count, limit: 250000, model: gemini-2.5-flash\nPlease retry in 21.4s.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_input_token_count","quotaId":"GenerateContentInputTokensPerModelPerMinute-FreeTier","quotaDimensions":{"location":"global","model":"gemini-2.5-flash"},"quotaValue":"250000"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"21s"}]}}`, RateLimit},
	{"gemini daily free tier", `{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 50, model: gemini-2.5-pro","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}`, QuotaExhausted},
	{"vertex resource exhausted", `429 Resource has been exhausted (e.g. check quota).`, RateLimit},
	{"vertex per-minute quota", `Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model with base model: gemini-2.0-pro. Please submit a quota increase request.`, RateLimit},
	{"gemini bad key", `400 {"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`, Auth},
	{"gemini overloaded", `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`, Overloaded},
	{"gemini deadline", `{"error":{"code":504,"message":"Deadline expired before operation could complete.","status":"DEADLINE_EXCEEDED"}}`, Timeout},

	// OpenRouter
	{"openrouter more credits", `402 {"error":{"message":"This request requires more credits, or fewer max_tokens. You requested up to 8192 tokens, but can only afford 1517. To increase, visit https://openrouter.ai/settings/credits and upgrade to a paid account","code":402}}`, QuotaExhausted},
	{"openrouter key limit 403", `403 {"error":{"message":"Key limit exceeded (total limit). Manage it using https://openrouter.ai/settings/keys","code":403}}`, BudgetCap},
	{"openrouter key limit json only", `{"error":{"message":"Key limit exceeded (monthly limit). Manage it using https://openrouter.ai/settings/keys","code":402}}`, BudgetCap},
	{"openrouter free models per day", `429 {"error":{"message":"Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day","code":429}}`, RateLimit},
	{"openrouter wrapped upstream", `{"error":{"message":"Provider returned error","code":429,"metadata":{"raw":"{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"rate limited upstream\"}}","provider_name":"Anthropic"}}}`, RateLimit},
	{"openrouter user not found", `401 {"error":{"message":"User not found.","code":401}}`, Auth},

	// Azure OpenAI
	{"azure token rate", `429 Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`, RateLimit},
	{"azure bad key", `401 Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.`, Auth},
	{"azure deployment missing", `404 The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.`, Other},

	// Bedrock
	{"bedrock throttling", `ThrottlingException: Too many tokens, please wait before trying again.`, RateLimit},
	{"bedrock service quota", `ServiceQuotaExceededException: You have exceeded the number of requests allowed for this model.`, RateLimit},
	{"bedrock access denied", `AccessDeniedException: You don't have access to the model with the specified model ID.`, Auth},
	{"bedrock expired token", `ExpiredTokenException: The security token included in the request is expired`, Auth},
	{"bedrock model timeout", `ModelTimeoutException: Model has timed out in processing the request. Try your request again.`, Timeout},
	{"bedrock unavailable", `ServiceUnavailableException: Bedrock is unable to process your request.`, Overloaded},
	{"bedrock validation", `ValidationException: The provided model identifier is invalid.`, Other},

	// LiteLLM proxy
	{"litellm team budget", `400 {"error":{"message":"ExceededBudget: Team=5f1e2d over budget. Spend=101.23, Budget=100.0","type":"budget_exceeded","param":"None","code":"400"}}`, BudgetCap},
	{"litellm key budget", `litellm.BudgetExceededError: Budget has been exceeded! Current cost: 25.013, Max budget: 25.0`, BudgetCap},
	{"litellm token budget as auth error", `401 {"error":{"message":"Authentication Error, ExceededTokenBudget: Current spend for token: 10.2; Max Budget for Token: 10.0","type":"auth_error","param":"None","code":"401"}}`, BudgetCap},
	{"litellm rate limit", `litellm.RateLimitError: RateLimitError: OpenAIException - Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o', 'type': 'requests', 'code': 'rate_limit_exceeded'}}`, RateLimit},
	{"litellm wrapped quota", `litellm.RateLimitError: RateLimitError: OpenAIException - Error code: 429 - {'error': {'message': 'You exceeded your current quota, please check your plan and billing details.', 'type': 'insufficient_quota', 'code': 'insufficient_quota'}}`, QuotaExhausted},
	{"litellm connection", `litellm.APIConnectionError: OllamaException - Cannot connect to host localhost:11434 ssl:default [Connect call failed ('127.0.0.1', 11434)]`, Timeout},

	// Ollama and network-level failures (undici, Node)
	{"ollama fetch failed", `fetch failed`, Timeout},
	{"undici terminated", `terminated`, Timeout},
	{"undici typeerror terminated", `TypeError: terminated`, Timeout},
	{"econnrefused", `connect ECONNREFUSED 127.0.0.1:11434`, Timeout},
	{"econnreset", `read ECONNRESET`, Timeout},
	{"socket hang up", `socket hang up`, Timeout},
	{"dns", `getaddrinfo ENOTFOUND api.anthropic.com`, Timeout},
	{"undici connect timeout", `Connect Timeout Error (attempted address: api.openai.com:443, timeout: 10000ms)`, Timeout},
	{"ollama model missing", `model "qwen3.5:9b" not found, try pulling it first`, Other},
	{"ollama 404 json", `404 {"error":"model 'llama3.3' not found"}`, Other},

	// Cloudflare / reverse proxies
	{"cloudflare 524 page", cloudflare524, Timeout},
	{"cloudflare 502 page bare", cloudflare502, Overloaded},
	{"nginx 504 page", nginx504, Timeout},
	{"cloudflare 1015", `<html><head><title>Access denied | api.example.com used Cloudflare to restrict access</title></head><body><h1>Error 1015</h1><h2>You are being rate limited</h2></body></html>`, RateLimit},

	// Other providers and shapes
	{"deepseek balance", `402 Insufficient Balance`, QuotaExhausted},
	{"moonshot suspended quota", `429 {"error":{"message":"Your account org-x is suspended, please check your plan and billing details","type":"exceeded_current_quota_error"}}`, QuotaExhausted},
	{"codex usage limit", `429 {"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","plan_type":"plus","resets_in_seconds":8200}}`, BudgetCap},
	{"weekly limit", `You've reached your weekly limit. Your limit resets Monday at 9:00 AM.`, BudgetCap},
	{"openclaw friendly rate limit", `⚠️ API rate limit reached. Please try again later.`, RateLimit},
	{"no api key", `No API key found for provider "anthropic". Auth store: /home/u/.openclaw/agents/main/agent/auth-profiles.json`, Auth},
	{"http prefix", `HTTP 502: Bad Gateway`, Overloaded},
	{"error prefix", `Error: 429 Too Many Requests`, RateLimit},
	{"bare 503 no body", `503 status code (no body)`, Overloaded},
	{"generic 500 unknown text", `500 something broke`, Overloaded},

	// Aborts and unknowns
	{"pi abort", `Request was aborted`, Other},
	{"dom abort", `AbortError: This operation was aborted`, Other},
	{"abort due to timeout", `TimeoutError: The operation was aborted due to timeout`, Timeout},
	{"python connection aborted", `('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))`, Timeout},
	{"account terminated is not a network error", `Your account has been terminated for violating the usage policies.`, Auth},
	{"unknown", `An unknown error occurred`, Other},
	{"empty", ``, Other},
	{"whitespace", " \n\t ", Other},
}

func TestClassify(t *testing.T) {
	for _, tt := range classifyTests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.msg); got != tt.want {
				t.Errorf("Classify(%.120q) = %s, want %s", tt.msg, got, tt.want)
			}
			checkGates(t, strings.ToLower(tt.msg))
		})
	}
}

// Windows are cut at anchor distance windowPad and widened to word
// boundaries; embedding real messages at odd offsets in word and non-word
// filler exercises both cuts.
func TestMatcherWindows(t *testing.T) {
	fillers := []string{strings.Repeat("w", 2*windowPad), strings.Repeat("ab. ", windowPad/2)}
	for _, tt := range classifyTests {
		low := strings.ToLower(tt.msg)
		if len(low) > 1000 {
			continue
		}
		for _, f := range fillers {
			for _, cut := range []int{windowPad - 1, windowPad + 7} {
				checkGates(t, f[:cut]+low+f[cut:]+low)
			}
		}
	}
}

// checkGates fails if matching only around anchors gives another answer
// than matching the whole text; a wrong anchor or a pattern longer than
// windowPad would silently drop a class.
func checkGates(t *testing.T, s string) {
	t.Helper()
	for _, m := range matchers {
		got, want := m.find(s), m.re.FindStringSubmatch(s)
		if !slices.Equal(got, want) {
			t.Errorf("windowed %s on %.120q = %q, whole text %q", m.re, s, got, want)
		}
	}
}

func TestHint(t *testing.T) {
	seen := map[string]Class{}
	for _, c := range allClasses {
		h := Hint(c)
		if strings.TrimSpace(h) == "" {
			t.Errorf("Hint(%s) is empty", c)
		}
		if prev, ok := seen[h]; ok {
			t.Errorf("Hint(%s) repeats Hint(%s)", c, prev)
		}
		seen[h] = c
	}
	for _, c := range []Class{"", "RATE_LIMIT", "billing"} {
		if got, want := Hint(c), Hint(Other); got != want {
			t.Errorf("Hint(%q) = %q, want the %q hint", c, got, Other)
		}
	}
}

// The quota hint must steer away from the rate-limit fix; that confusion is
// what the separate class exists to prevent.
func TestQuotaHintRulesOutRateLimits(t *testing.T) {
	if !strings.Contains(Hint(QuotaExhausted), "raising rate limits will not help") {
		t.Errorf("quota hint lost its warning: %q", Hint(QuotaExhausted))
	}
}

func TestClassifyInspectsOnlyPrefix(t *testing.T) {
	big := "fetch failed " + strings.Repeat("x", maxInspect) + " 429 insufficient_quota"
	if got := Classify(big); got != Timeout {
		t.Errorf("Classify(big) = %s, want %s from the first 64 KiB", got, Timeout)
	}
}

func TestClassifyLargeInputBounded(t *testing.T) {
	inputs := []string{
		strings.Repeat("a", 1<<20),
		strings.Repeat("[", 1<<20),
		strings.Repeat(`{"error":`, 1<<17),
		"429 " + strings.Repeat("rate limit budget billing ", 1<<16),
		strings.Repeat("<title>", 1<<17),
		strings.Repeat("\xff\xfe", 1<<19),
		strings.Repeat("time key token access rate per budget limit status 4 ", 1<<15),
		"time" + strings.Repeat("a", 1<<20),
	}
	for i, in := range inputs {
		start := time.Now()
		c := Classify(in)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("input %d: Classify took %v", i, d)
		}
		if !validClass(c) {
			t.Errorf("input %d: invalid class %q", i, c)
		}
	}
}

func validClass(c Class) bool {
	for _, k := range allClasses {
		if c == k {
			return true
		}
	}
	return false
}

func BenchmarkClassify(b *testing.B) {
	msgs := []struct{ name, msg string }{
		{"bare", `fetch failed`},
		{"openai-quota-json", `429 {"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`},
		{"anthropic-overloaded", `529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
		{"cloudflare-524", cloudflare524},
		{"64KiB-prose", strings.Repeat("lorem ipsum dolor sit amet ", maxInspect/27+1)},
	}
	for _, m := range msgs {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(int64(min(len(m.msg), maxInspect)))
			for b.Loop() {
				Classify(m.msg)
			}
		})
	}
}
