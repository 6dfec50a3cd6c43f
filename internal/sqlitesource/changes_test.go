package sqlitesource

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// A live poll asks Changed which sessions have new rows and reads only those:
// every row committed after the mark is read once, the others not at all.
func TestChangedThenReadSessions(t *testing.T) {
	path, open := newDB(t, ddlSchema23)
	w := openWriter(t, path, 5000)
	ctx := context.Background()
	for _, s := range []string{"a", "b", "c", "d"} {
		if err := insertRows(ctx, w, s, 1, 20, true); err != nil {
			t.Fatal(err)
		}
	}
	db := open(t)
	mark, ok, err := db.Mark(ctx)
	if err != nil || !ok || mark != 80 {
		t.Fatalf("Mark = %d %v %v, want 80 true", mark, ok, err)
	}
	r := newReader(t)
	r.read(db)
	if s, next, ok, err := db.Changed(ctx, mark); err != nil || !ok || len(s) != 0 || next != mark {
		t.Fatalf("nothing new: Changed = %v %d %v %v", s, next, ok, err)
	}
	// New rows in c and b (in that commit order), a new session.
	for _, c := range []struct {
		s        string
		from, to int64
	}{{"c", 21, 25}, {"b", 21, 21}, {"0new", 1, 3}, {"c", 26, 26}} {
		if err := insertRows(ctx, w, c.s, c.from, c.to, true); err != nil {
			t.Fatal(err)
		}
	}
	s, next, ok, err := db.Changed(ctx, mark)
	if err != nil || !ok {
		t.Fatalf("Changed: %v %v", ok, err)
	}
	if want := []string{"c", "b", "0new"}; !slices.Equal(s, want) || next != 90 {
		t.Fatalf("Changed = %v next %d, want %v next 90", s, next, want)
	}
	n, err := db.ReadSessions(ctx, s, r.after, r.row, r.badRow)
	if err != nil {
		t.Fatal(err)
	}
	if n != 10 || r.pos["a"] != 20 || r.pos["b"] != 21 || r.pos["c"] != 26 || r.pos["d"] != 20 || r.pos["0new"] != 3 {
		t.Fatalf("read %d rows, positions %v", n, r.pos)
	}
	// A full read finds nothing left.
	if n := r.read(db); n != 0 {
		t.Fatalf("full read after ReadSessions found %d rows", n)
	}
	// More new rows than one Changed statement walks.
	if err := insertRows(ctx, w, "big", 1, changedBatch+5, false); err != nil {
		t.Fatal(err)
	}
	if s, next, ok, err := db.Changed(ctx, 90); err != nil || !ok || !slices.Equal(s, []string{"big"}) || next != 90+changedBatch+5 {
		t.Fatalf("Changed over two statements = %v %d %v %v", s, next, ok, err)
	}
}

// Rows deleted at the end of the table lower the largest rowid below the mark:
// Changed says it cannot tell, so the caller reads everything.
func TestChangedAfterDeletion(t *testing.T) {
	path, open := newDB(t, ddlSchema23)
	w := openWriter(t, path, 5000)
	ctx := context.Background()
	for _, s := range []string{"keep", "gone"} {
		if err := insertRows(ctx, w, s, 1, 10, false); err != nil {
			t.Fatal(err)
		}
	}
	db := open(t)
	mark, _, err := db.Mark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, w, "DELETE FROM session_windows WHERE session_id = 'gone'")
	if err := insertRows(ctx, w, "next", 1, 3, false); err != nil {
		t.Fatal(err)
	}
	if s, _, ok, err := db.Changed(ctx, mark); err != nil || ok {
		t.Fatalf("Changed after a deletion at the end = %v %v %v, want not ok", s, ok, err)
	}
}

// A table without rowids (not OpenClaw's) cannot give a mark; Read still works.
func TestMarkWithoutRowid(t *testing.T) {
	ddl := strings.Replace(ddlSchema8, "PRIMARY KEY(session_id, seq)\n) STRICT;", "PRIMARY KEY(session_id, seq)\n) STRICT, WITHOUT ROWID;", 1)
	if ddl == ddlSchema8 {
		t.Fatal("schema not rewritten")
	}
	path, open := newDB(t, ddl)
	w := openWriter(t, path, 5000)
	if err := insertRows(context.Background(), w, "a", 1, 5, false); err != nil {
		t.Fatal(err)
	}
	db := open(t)
	if _, ok, err := db.Mark(context.Background()); ok || err != nil {
		t.Fatalf("Mark on a WITHOUT ROWID table: ok=%v err=%v", ok, err)
	}
	if _, _, ok, err := db.Changed(context.Background(), 0); ok || err != nil {
		t.Fatalf("Changed on a WITHOUT ROWID table: ok=%v err=%v", ok, err)
	}
	if n := newReader(t).read(db); n != 5 {
		t.Fatalf("read %d rows", n)
	}
}

// Changed must seek by rowid, never scan: its cost is the new rows only.
func TestChangedQueryPlan(t *testing.T) {
	_, open := newDB(t, ddlSchema23)
	db := open(t)
	p, err := db.plan(context.Background(), changedQuery, int64(5), changedBatch)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p, "INTEGER PRIMARY KEY (rowid>?)") || strings.Contains(p, "TEMP B-TREE") {
		t.Fatalf("plan: %s", p)
	}
}
