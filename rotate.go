package cryptofuse

import "context"

// RotateToken replaces oldToken with a new one. By default it works in the
// order the API's documentation gives: it revokes oldToken (hint
// access_token, RFC 7009), then issues a new token (RFC 6749 §4.4). With
// [WithIssueFirst] it issues first and revokes after, so that the caller is
// never without a valid token.
//
// On success it returns the new token, and oldToken is no longer valid. On
// failure the error is a [*RotateError] that says what the caller holds:
//
// Default order, revoke then issue:
//
//   - Revoked false, Issued false, nil token: the revoke failed and nothing
//     was issued. oldToken is still valid, unless the failure came after the
//     server acted (a timeout or a broken connection while the answer was on
//     its way).
//   - Revoked true, Issued false, nil token: oldToken is revoked but the
//     issue failed, so the caller holds no valid token. Call [Client.Token]
//     to get one.
//
// With WithIssueFirst:
//
//   - Revoked false, Issued false, nil token: the issue failed and oldToken
//     was not touched: it is still valid.
//   - Revoked false, Issued true, and the new token is returned beside the
//     error: both tokens are valid. Use the new one, and revoke oldToken
//     later (with [Client.Revoke]) or let it expire.
//
// Err is the failed step's error; errors.Is and errors.As see through a
// RotateError to it. Each step retries under the client's [RetryPolicy].
//
// An empty oldToken returns [ErrEmptyToken], and one that plainly is not a
// token (an authentication scheme in front, white space at either end, a
// control character: see [Client.Revoke]) an error wrapping
// [ErrMalformedToken]; in both cases nothing is sent, and neither is a
// *RotateError. RotateToken is safe for concurrent use.
func (c *Client) RotateToken(ctx context.Context, oldToken string) (*Token, error) {
	if err := checkToken(oldToken); err != nil {
		return nil, err
	}
	if c.issueFirst {
		tok, err := c.issue(ctx, oldToken)
		if err != nil {
			return nil, &RotateError{Err: err, failed: opToken}
		}
		if err := c.Revoke(ctx, oldToken, AccessTokenHint); err != nil {
			return tok, &RotateError{Issued: true, Err: err, failed: opRevoke}
		}
		return tok, nil
	}
	if err := c.Revoke(ctx, oldToken, AccessTokenHint); err != nil {
		return nil, &RotateError{Err: err, failed: opRevoke}
	}
	tok, err := c.issue(ctx, oldToken)
	if err != nil {
		return nil, &RotateError{Revoked: true, Err: err, failed: opToken}
	}
	return tok, nil
}

// RotateError is the error of a [Client.RotateToken] that did not complete.
// Revoked and Issued say where the caller stands; RotateToken's doc lists
// each case.
type RotateError struct {
	Revoked bool  // true: the old token is gone and no new one was issued
	Issued  bool  // true: a new token was issued and returned beside this error; the old one is still valid
	Err     error // the failed step's error; Unwrap returns it

	failed string // the step that failed, opRevoke or opToken; "" if unknown
}

// Error says which step failed and what that means for the old token,
// followed by the step's own error.
func (e *RotateError) Error() string { return prefix + e.message() }

func (e *RotateError) message() string {
	var msg string
	switch {
	case e.Revoked:
		msg = "rotate: the old token was revoked, but issuing a new one failed"
	case e.Issued:
		msg = "rotate: a new token was issued, but revoking the old token failed, so it is still valid"
	case e.failed == opToken:
		msg = "rotate: issuing a new token failed; the old token was not revoked"
	default:
		msg = "rotate: revoking the old token failed, so no new token was issued"
	}
	if e.Err == nil {
		return msg
	}
	return msg + ": " + messageOf(e.Err)
}

// Unwrap returns the failed step's error.
func (e *RotateError) Unwrap() error { return e.Err }
