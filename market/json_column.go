package market

import (
	"encoding/json"
	"fmt"
)

// scanJSON decodes a JSON column value (as the store's driver hands it to a Scan
// method: []byte, string or nil) into dst. It reports a NULL column as null with dst
// untouched, so that each type decides what NULL means for it. what names the type in
// the errors: one for a value that is not JSON text, and the decoder's, wrapped.
func scanJSON(src any, what string, dst any) (null bool, err error) {
	var raw []byte
	switch v := src.(type) {
	case []byte:
		raw = v
	case string:
		raw = []byte(v)
	case nil:
		return true, nil
	default:
		return false, fmt.Errorf("%s: cannot scan %T", what, src)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return false, nil
}
