package ledger

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing n bytes of f from off to disk
// without waiting for it. A scan appends hundreds of megabytes and then syncs once;
// without this, the whole ledger was written back during that final fsync, a tenth
// of a 1 GB scan's time spent waiting with both cores idle. It is advice only:
// durability still comes from Sync, so an error here changes nothing.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
