package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/inlay/inlay/internal/storage"
)

// kindGrantRedeemed is the record kind that marks a tokeninfo grant as exchanged.
const kindGrantRedeemed = "grant.redeemed"

// redeemGrant makes a tokeninfo grant single-use: the first exchange creates a record keyed by
// the grant's hash, kept until the grant expires; CreateRecord is first-create-wins on every
// replica sharing the store, so of concurrent exchanges of one grant exactly one gets a token.
// It runs after every other check, so a refused request does not use the grant up.
func (s *Server) redeemGrant(ctx context.Context, rawGrant string, expires time.Time) error {
	sum := sha256.Sum256([]byte(rawGrant))
	err := s.Store.CreateRecord(ctx, storage.Record{Kind: kindGrantRedeemed, Key: hex.EncodeToString(sum[:]), ExpiresAt: expires})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return &oauthError{Status: http.StatusBadRequest, Code: "invalid_grant",
			Description: "the tokeninfo grant was already exchanged for a token; call tokeninfo again for a new one", Cause: err}
	}
	return err
}
