package aslfile

import "strconv"

// ASL key names (asl.h) of the fixed fields of a message record.
const (
	KeyMsgID    = "ASLMessageID"
	KeyTime     = "Time"
	KeyTimeNsec = "TimeNanoSec"
	KeyLevel    = "Level"
	KeyPID      = "PID"
	KeyUID      = "UID"
	KeyGID      = "GID"
	KeyReadUID  = "ReadUID"
	KeyReadGID  = "ReadGID"
	KeyRefPID   = "RefPID"
	KeyHost     = "Host"
	KeySender   = "Sender"
	KeyFacility = "Facility"
	KeyMessage  = "Message"
	KeyRefProc  = "RefProc"
	KeySession  = "Session"
)

// Keys appends m as the ordered key/value list Apple's reader builds from a
// record (asl_file_fetch_pos), which is what the ASL API and osquery's asl
// table see:
//
//   - ASLMessageID, Time, TimeNanoSec, Level and PID always, as unsigned
//     decimals (a pid of -1 reads 4294967295);
//   - UID, GID, ReadUID and ReadGID unless 0xFFFFFFFF; RefPID unless 0;
//   - Host, Sender, Facility, Message, RefProc and Session when not NULL;
//   - then the extra pairs in record order. Setting a key that is already
//     present replaces its value in place, as asl_msg_set_key_val does.
func (m *Message) Keys(dst []Pair) []Pair {
	base := len(dst)
	u := func(v uint64) NullString { return Str(strconv.FormatUint(v, 10)) }
	dst = append(dst,
		Pair{KeyMsgID, u(m.ID)},
		Pair{KeyTime, u(m.Time)},
		Pair{KeyTimeNsec, u(uint64(m.Nano))},
		Pair{KeyLevel, u(uint64(m.Level))},
		Pair{KeyPID, u(uint64(m.PID))},
	)
	for _, f := range [...]struct {
		key string
		v   uint32
		off uint32
	}{{KeyUID, m.UID, Unset}, {KeyGID, m.GID, Unset}, {KeyReadUID, m.ReadUID, Unset}, {KeyReadGID, m.ReadGID, Unset}, {KeyRefPID, m.RefPID, 0}} {
		if f.v != f.off {
			dst = append(dst, Pair{f.key, u(uint64(f.v))})
		}
	}
	for _, f := range [...]struct {
		key string
		v   NullString
	}{{KeyHost, m.Host}, {KeySender, m.Sender}, {KeyFacility, m.Facility}, {KeyMessage, m.Text}, {KeyRefProc, m.RefProc}, {KeySession, m.Session}} {
		if f.v.Valid {
			dst = append(dst, Pair{f.key, f.v})
		}
	}
	for _, p := range m.Pairs {
		dst = setKey(dst, base, p)
	}
	return dst
}

// setKey sets p in dst[base:], replacing the value of an existing key.
func setKey(dst []Pair, base int, p Pair) []Pair {
	for i := base; i < len(dst); i++ {
		if dst[i].Key == p.Key {
			dst[i].Value = p.Value
			return dst
		}
	}
	return append(dst, p)
}
