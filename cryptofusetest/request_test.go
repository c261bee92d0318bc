package cryptofusetest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestParseQueryDict(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    params
		wantErr error
	}{
		{"empty", "", params{}, nil},
		{"simple", "a=1&b=2", params{"a": "1", "b": "2"}, nil},
		{"the last value wins", "a=1&a=2", params{"a": "2"}, nil},
		{"no equals sign", "a&b=", params{"a": "", "b": ""}, nil},
		{"empty fields", "&&a=1&", params{"a": "1"}, nil},
		{"semicolon is no separator", "a=1;b=2", params{"a": "1;b=2"}, nil},
		{"plus and escapes", "a+b=c%2Bd+e&%zz=%", params{"a b": "c+d e", "%zz": "%"}, nil},
		{"equals in the value", "a==b", params{"a": "=b"}, nil},
		{"ISO-8859-1 fallback", "s=\xe9", params{"s": "é"}, nil},
		{"1000 fields", strings.Repeat("a=1&", 999) + "a=2", params{"a": "2"}, nil},
		{"1001 fields", strings.Repeat("&", 1000), nil, errBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseQueryDict([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) || !maps.Equal(got, tt.want) {
				t.Errorf("parseQueryDict(%q): got %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestOAuthlibParams(t *testing.T) {
	tests := []struct {
		query  string
		post   params
		want   params
		wantOK bool
	}{
		{"", params{"a": "1"}, params{"a": "1"}, true},
		{"a=q&b=q", params{"a": "1"}, params{"a": "1", "b": "q"}, true},
		{"a=%41", nil, params{"a": "A"}, true},
		{"a=%zz", nil, nil, false},
		{"a=%4z", nil, nil, false},
		{"%%41", nil, nil, false},
		{"a=%4", nil, params{"a": "%4"}, true}, // at the very end the pattern cannot match
		{"a=%", nil, params{"a": "%"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got, ok := oauthlibParams(tt.query, tt.post)
			if ok != tt.wantOK || !maps.Equal(got, tt.want) {
				t.Errorf("oauthlibParams(%q): got %v, %v; want %v, %v", tt.query, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// The wants below are what Python's cgi.parse_header answered (Django 3.2,
// DOT 1.7.0); Django 5.2 (DOT 3.4.1) lower-cases the same text.
func TestMediaType(t *testing.T) {
	tests := []struct{ in, want170, want341 string }{
		{"application/x-www-form-urlencoded", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded"},
		{"  application/x-www-form-urlencoded ; charset=utf-8", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded"},
		{"Application/X-WWW-Form-Urlencoded", "Application/X-WWW-Form-Urlencoded", "application/x-www-form-urlencoded"},
		{`a"b;c";d`, `a"b;c"`, `a"b;c"`},
		{"application/x-www-form-urlencoded\xa0", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded"},
		{"Multipart/Form-Data; boundary=x", "Multipart/Form-Data", "multipart/form-data"},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := mediaType(tt.in, true); got != tt.want170 {
				t.Errorf("mediaType(%q, 1.7.0): got %q, want %q", tt.in, got, tt.want170)
			}
			if got := mediaType(tt.in, false); got != tt.want341 {
				t.Errorf("mediaType(%q, 3.4.1): got %q, want %q", tt.in, got, tt.want341)
			}
		})
	}
}

func TestPostParams(t *testing.T) {
	const mp = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n" +
		"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\nfile\r\n" +
		"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\xff\r\n--B--\r\n"
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		want        params
		wantErr     error
	}{
		{"form", "POST", formType, "a=1", params{"a": "1"}, nil},
		{"GET has no POST", "GET", formType, "a=1", params{}, nil},
		{"JSON", "POST", "application/json", `{"a":1}`, params{}, nil},
		{"no content type", "POST", "", "a=1", params{}, nil},
		{"multipart", "POST", "multipart/form-data; boundary=B", mp, params{"a": "2\uFFFD"}, nil},
		{"multipart without boundary", "POST", "multipart/form-data", mp, nil, errBadRequest},
		{"multipart garbage", "POST", "multipart/form-data; boundary=B", "garbage", params{}, nil},
		{"multipart too large", "POST", "multipart/form-data; boundary=B",
			"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" + strings.Repeat("x", maxBodyBytes+1) + "\r\n--B--\r\n", nil, errBadRequest},
		{"form too large", "POST", formType, strings.Repeat("x", maxBodyBytes+1), nil, errBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(tt.method, "http://127.0.0.1/", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			got, err := postParams(r, tt.method)
			if !errors.Is(err, tt.wantErr) || !maps.Equal(got, tt.want) {
				t.Errorf("postParams: got %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestPostParamsChunked checks the size limit on a body of unknown length.
func TestPostParamsChunked(t *testing.T) {
	r, err := http.NewRequest("POST", "http://127.0.0.1/", strings.NewReader(strings.Repeat("x", maxBodyBytes+1)))
	if err != nil {
		t.Fatal(err)
	}
	r.ContentLength = -1
	r.Header.Set("Content-Type", formType)
	if _, err := postParams(r, "POST"); !errors.Is(err, errBadRequest) {
		t.Errorf("postParams: got %v, want %v", err, errBadRequest)
	}
}

func TestAuthorizationHeader(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		want    string
		wantHas bool
	}{
		{"none", nil, "", false},
		{"one", []string{"Basic x"}, "Basic x", true},
		{"empty", []string{""}, "", true},
		{"two are joined with a comma", []string{"Basic x", "Basic y"}, "Basic x,Basic y", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Header: http.Header{}}
			for _, v := range tt.values {
				r.Header.Add("Authorization", v)
			}
			got, has := authorization(r)
			if got != tt.want || has != tt.wantHas {
				t.Errorf("authorization: got %q, %v; want %q, %v", got, has, tt.want, tt.wantHas)
			}
		})
	}
}

// TestRefusedBodyIsDrained sends a body over the size limit on a raw
// connection, writing all of it before reading: the client must get the 400,
// not a connection reset.
func TestRefusedBodyIsDrained(t *testing.T) {
	srv := newTestServer(t)
	for _, contentLength := range []bool{true, false} {
		t.Run(fmt.Sprintf("Content-Length %v", contentLength), func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			body := "grant_type=client_credentials&pad=" + strings.Repeat("a", 4*maxBodyBytes)
			head := "POST /o/token/ HTTP/1.1\r\nHost: x\r\nContent-Type: " + formType + "\r\n"
			if contentLength {
				head += fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))
			} else {
				head += "Transfer-Encoding: chunked\r\n\r\n"
				body = fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
			}
			if _, err := io.WriteString(conn, head+body); err != nil {
				t.Fatalf("writing the request: %v", err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("reading the body: %v", err)
			}
			if resp.StatusCode != 400 || string(got) != page400 {
				t.Errorf("got %d %q, want 400 with Django's page", resp.StatusCode, got)
			}
		})
	}
}
