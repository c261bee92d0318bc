package cryptofuse

import (
	"net/http"
	"testing"
)

func TestBearerToken(t *testing.T) {
	cases := []struct {
		name   string
		header []string // the Authorization values; nil: none
		want   string
		wantOK bool
	}{
		{"bearer", []string{"Bearer abc"}, "abc", true},
		{"scheme in lower case", []string{"bearer abc"}, "abc", true},
		{"scheme in upper case", []string{"BEARER abc"}, "abc", true},
		{"two spaces (1*SP)", []string{"Bearer  abc"}, "abc", true},
		{"b64token characters", []string{"Bearer a-b.c_d~e+f/g=="}, "a-b.c_d~e+f/g==", true},
		{"JWT", []string{"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"}, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", true},
		{"no header", nil, "", false},
		{"empty header", []string{""}, "", false},
		{"scheme alone", []string{"Bearer"}, "", false},
		{"scheme and a space", []string{"Bearer "}, "", false},
		{"Basic", []string{"Basic YTpi"}, "", false},
		{"scheme glued to the token", []string{"Bearerabc"}, "", false},
		{"tab instead of a space", []string{"Bearer\tabc"}, "", false},
		{"inner space", []string{"Bearer abc def"}, "", false},
		{"padding alone", []string{"Bearer =="}, "", false},
		{"padding inside", []string{"Bearer ab=c"}, "", false},
		{"non-ASCII", []string{"Bearer jeton-é"}, "", false},
		{"quoted", []string{`Bearer "abc"`}, "", false},
		{"comma list", []string{"Bearer abc, Basic YTpi"}, "", false},
		{"two headers", []string{"Bearer abc", "Bearer def"}, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/logout", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tc.header {
				r.Header.Add("Authorization", v)
			}
			got, ok := BearerToken(r)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("BearerToken(%q): got %q, %t, want %q, %t", tc.header, got, ok, tc.want, tc.wantOK)
			}
		})
	}
	t.Run("nil request", func(t *testing.T) {
		if got, ok := BearerToken(nil); got != "" || ok {
			t.Errorf("BearerToken(nil): got %q, %t, want \"\", false", got, ok)
		}
	})
}
