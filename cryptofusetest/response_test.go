package cryptofusetest

import "testing"

// The wants below are what Python's json.dumps answered.
func TestPyJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"é", `"\u00e9"`},
		{"\"\\\n\r\t\b\f", `"\"\\\n\r\t\b\f"`},
		{"\x01\x7f", `"\u0001\u007f"`},
		{"😀", `"\ud83d\ude00"`},
		{"</script>&", `"</script>&"`},
		{"~ ", `"~ "`},
		{"\xff", `"\ufffd"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := pyJSONString(tt.in); got != tt.want {
				t.Errorf("pyJSONString(%q): got %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestJSONObject(t *testing.T) {
	var empty jsonObject
	var o jsonObject
	o.boolean("active", true)
	o.str("scope", "read write")
	o.number("exp", -5)
	tests := []struct{ got, want string }{
		{empty.String(), "{}"},
		{o.String(), `{"active": true, "scope": "read write", "exp": -5}`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}
