package pebblestore

import "encoding/binary"

// The key space of one log's Pebble database. Every key starts with a
// one-letter kind and a slash, so each kind is one contiguous key range.
const (
	entryPrefix      = "e/" // e/<index 8B BE> → entry bytes
	tilePrefix       = "t/" // t/<level 1B>/<index 8B BE> → hashes (width×32 bytes)
	rowPrefix        = "r/" // r/<row key> → row value
	checkpointPrefix = "c/" // c/<size 8B BE> → signed checkpoint
	sizeKey          = "m/size"
	stateKey         = "m/state"
)

// EntryKey returns the Pebble key of the entry at index.
func EntryKey(index uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(entryPrefix), index)
}

// TileKey returns the Pebble key of the hash tile at (level, index).
func TileKey(level uint8, index uint64) []byte {
	k := append([]byte(tilePrefix), level, '/')
	return binary.BigEndian.AppendUint64(k, index)
}

// RowKey returns the Pebble key of the row with the given key.
func RowKey(key []byte) []byte {
	return append([]byte(rowPrefix), key...)
}

// CheckpointKey returns the Pebble key of the checkpoint for size.
func CheckpointKey(size uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(checkpointPrefix), size)
}

// prefixEnd returns the smallest key greater than every key that starts with
// prefix, or nil if there is none (prefix is all 0xff bytes).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
