package server

import (
	"github.com/clawtrail/clawtrail/internal/jsonscan"
	"github.com/clawtrail/clawtrail/internal/ledger"
)

// indexFields reads the members the index needs beyond the identity that
// ledger.WalkIdentity decodes. Outputs, the bulk of a ledger, are skipped unread:
// building the index of a million records is then dominated by the chain check, not
// by decoding what no filter looks at (details are read by offset when shown).
func indexFields(line []byte, rec *ledger.Record) {
	str := func(dst *string, v []byte) {
		if s, ok := jsonscan.String(v); ok {
			*dst = s
		}
	}
	// WalkIdentity has checked the line's structure and hash; nothing here can fail
	// on what it accepted.
	_ = jsonscan.Object(line, func(k, v []byte) error {
		switch string(k) {
		case "ts":
			str(&rec.TS, v)
		case "tool":
			str(&rec.Tool, v)
		case "command":
			str(&rec.Command, v)
		case "verdict":
			str(&rec.Verdict, v)
		case "provider":
			str(&rec.Provider, v)
		case "model":
			str(&rec.Model, v)
		case "class":
			str(&rec.Class, v)
		case "message":
			str(&rec.Message, v)
		case "hint":
			str(&rec.Hint, v)
		case "detail":
			str(&rec.Detail, v)
		case "type":
			str(&rec.Type, v)
		case "path":
			str(&rec.Path, v)
		case "root":
			str(&rec.Root, v)
		case "tree_size":
			f, _ := jsonscan.Float(v)
			rec.TreeSize = int64(f)
		case "findings":
			_ = jsonscan.Array(v, func(item []byte) error {
				var f ledger.Finding
				_ = jsonscan.Object(item, func(k, v []byte) error {
					switch string(k) {
					case "rule":
						str(&f.Rule, v)
					case "severity":
						str(&f.Severity, v)
					}
					return nil
				})
				rec.Findings = append(rec.Findings, f)
				return nil
			})
		}
		return nil
	})
}
