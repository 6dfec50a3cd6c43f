package sqlitesource

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"

	"modernc.org/sqlite"
)

// FileID tells one database file apart from another under the same name, and
// lets a caller notice change cheaply.
//
// Dev and Ino change when the file is replaced (atomic rename, restore from a
// backup, delete and recreate). The header fields come from the main file only:
// in WAL mode they move when a checkpoint copies pages back, not at every
// commit, so they are evidence of VACUUM or a rewrite (the schema cookie goes
// up), not a commit signal. For commits use DB.DataVersion, or the -wal fields:
// a commit appends to the -wal (size, mtime); after a checkpoint the writer
// restarts the -wal from its start with new salts, possibly at the same size.
type FileID struct {
	Dev, Ino uint64
	Size     int64
	ModTime  time.Time

	// HeaderRead is false when the 100-byte header was not read: the file is
	// shorter, is not a SQLite database, or OFD locks are unavailable (then
	// opening the file here could strip this process's own SQLite locks).
	HeaderRead    bool
	ChangeCounter uint32 // header offset 24
	SchemaCookie  uint32 // header offset 40
	PageSize      int    // header offset 16

	WALExists  bool
	WALSize    int64
	WALModTime time.Time
	WALSalt    uint64 // salt-1 and salt-2 of the -wal header; new after every WAL restart
}

// SameFile reports whether a and b are the same inode.
func (a FileID) SameFile(b FileID) bool { return a.Dev == b.Dev && a.Ino == b.Ino }

// Changed reports whether anything observable differs: a cheap "maybe new
// commits" test for a poller that does not want to query the database.
func (a FileID) Changed(b FileID) bool {
	return !a.SameFile(b) || a.Size != b.Size || !a.ModTime.Equal(b.ModTime) ||
		a.HeaderRead != b.HeaderRead || a.ChangeCounter != b.ChangeCounter || a.SchemaCookie != b.SchemaCookie ||
		a.WALExists != b.WALExists || a.WALSize != b.WALSize || !a.WALModTime.Equal(b.WALModTime) || a.WALSalt != b.WALSalt
}

var sqliteMagic = []byte("SQLite format 3\x00")

// Identity stats the database file and its -wal, and reads the database
// header (a plain read; SQLite keeps no lock on it that matters, and with OFD
// locks the close of this descriptor does not touch SQLite's locks).
func Identity(path string) (FileID, error) {
	var id FileID
	fi, err := os.Stat(path)
	if err != nil {
		return id, err
	}
	id.Size, id.ModTime = fi.Size(), fi.ModTime()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.Dev, id.Ino = uint64(st.Dev), uint64(st.Ino)
	}
	if sqlite.OFDLockingEnabled() {
		id.readHeader(path)
	}
	wfi, err := os.Stat(path + "-wal")
	switch {
	case err == nil:
		id.WALExists, id.WALSize, id.WALModTime = true, wfi.Size(), wfi.ModTime()
		// SQLite never locks the -wal itself (WAL locks live in -shm), so
		// opening and closing it here is harmless.
		if f, err := os.Open(path + "-wal"); err == nil {
			var h [24]byte
			if n, _ := f.ReadAt(h[:], 0); n == len(h) {
				id.WALSalt = binary.BigEndian.Uint64(h[16:24])
			}
			f.Close()
		}
	case !errors.Is(err, fs.ErrNotExist):
		return id, err
	}
	return id, nil
}

func (id *FileID) readHeader(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	var h [100]byte
	if n, _ := f.ReadAt(h[:], 0); n != len(h) || string(h[:16]) != string(sqliteMagic) {
		return
	}
	id.HeaderRead = true
	id.PageSize = int(binary.BigEndian.Uint16(h[16:18]))
	if id.PageSize == 1 {
		id.PageSize = 65536
	}
	id.ChangeCounter = binary.BigEndian.Uint32(h[24:28])
	id.SchemaCookie = binary.BigEndian.Uint32(h[40:44])
}
