package hub

// MaxChannelLen and MaxTypeLen bound channel names and event types.
const (
	MaxChannelLen = 128
	MaxTypeLen    = 64
)

// ValidChannel reports whether name is a legal channel name: 1 to
// MaxChannelLen bytes of ASCII letters, digits and ":_-.@". The owner rules
// (user:{id}, conversation:{id}, ...) belong to the Authorize callback.
func ValidChannel(name string) bool { return validName(name, MaxChannelLen) }

// ValidEventType reports whether t is a legal event type: 1 to MaxTypeLen
// bytes of the same alphabet as channel names.
func ValidEventType(t string) bool { return validName(t, MaxTypeLen) }

// validName keeps names free of anything JSON would have to escape, so
// frames can be built by appending bytes.
func validName(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i]) {
			return false
		}
	}
	return true
}

func nameByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c == ':' || c == '_' || c == '-' || c == '.' || c == '@':
		return true
	}
	return false
}
