package oauth2adapt

import (
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
)

func TestConvert(t *testing.T) {
	t.Parallel()
	expiry := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		tok       cryptofuse.Token
		wantScope any // tok.Extra("scope")
	}{
		{"complete", cryptofuse.Token{AccessToken: "AT", TokenType: "Bearer", RefreshToken: "RT", Scope: "read write", ExpiresIn: 36000, Expiry: expiry}, "read write"},
		{"no expiry", cryptofuse.Token{AccessToken: "AT", TokenType: "Bearer"}, nil},
		{"no token type", cryptofuse.Token{AccessToken: "AT", ExpiresIn: 60, Expiry: expiry}, nil},
		{"lower-case type", cryptofuse.Token{AccessToken: "AT", TokenType: "bearer", Scope: "read"}, "read"},
		{"other zone", cryptofuse.Token{AccessToken: "AT", Expiry: expiry.In(time.FixedZone("X", 3600))}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.tok
			got := convert(&in)
			if in != tt.tok {
				t.Errorf("convert modified its token: got %v, want %v", in, tt.tok)
			}
			if got.AccessToken != tt.tok.AccessToken {
				t.Errorf("AccessToken: got %q, want %q", got.AccessToken, tt.tok.AccessToken)
			}
			if got.TokenType != tt.tok.TokenType {
				t.Errorf("TokenType: got %q, want %q", got.TokenType, tt.tok.TokenType)
			}
			if got.RefreshToken != tt.tok.RefreshToken {
				t.Errorf("RefreshToken: got %q, want %q", got.RefreshToken, tt.tok.RefreshToken)
			}
			if got.ExpiresIn != tt.tok.ExpiresIn {
				t.Errorf("ExpiresIn: got %d, want %d", got.ExpiresIn, tt.tok.ExpiresIn)
			}
			if !got.Expiry.Equal(tt.tok.Expiry) || got.Expiry.IsZero() != tt.tok.Expiry.IsZero() {
				t.Errorf("Expiry: got %v, want %v", got.Expiry, tt.tok.Expiry)
			}
			if s := got.Extra("scope"); s != tt.wantScope {
				t.Errorf("Extra(\"scope\"): got %v, want %v", s, tt.wantScope)
			}
			if want := "Bearer"; got.Type() != want {
				t.Errorf("Type(): got %q, want %q", got.Type(), want)
			}
		})
	}
}
