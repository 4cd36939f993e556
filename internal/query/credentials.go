package query

import (
	"context"
	"crypto/sha256"
)

// CredentialsFunc says with whose credentials viewer's queries on source run. For a source that
// needs none it returns owner "" and a nil token function. Otherwise owner names whose
// credentials they are ("viewer:alice", "service:<guid>"), token supplies the token (called per
// query, or per request by drivers that ask again), and err is set when there are none to use
// (the viewer has not logged in): the query fails with it and is not answered from the cache.
type CredentialsFunc func(ctx context.Context, source, viewer string) (owner string, token func(context.Context) (string, error), err error)

type viewerKey struct{}

// withViewer records whose request this is, for CredentialsFunc.
func withViewer(ctx context.Context, viewer string) context.Context {
	return context.WithValue(ctx, viewerKey{}, viewer)
}

// credentialed reports whether queries on source run with per-query credentials.
func (e *Engine) credentialed(source string) bool {
	_, ok := e.opts.CredentialedSources[source]
	return ok && e.opts.Credentials != nil
}

// credentials resolves the credentials of a query on source, and the cache key that includes
// their owner: results obtained with one person's credentials are never served to another.
func (e *Engine) credentials(ctx context.Context, source string, key cacheKey) (cacheKey, string, func(context.Context) (string, error), error) {
	if !e.credentialed(source) {
		return key, "", nil, nil
	}
	viewer, _ := ctx.Value(viewerKey{}).(string)
	owner, tok, err := e.opts.Credentials(ctx, source, viewer)
	if err != nil {
		return key, "", nil, err
	}
	h := sha256.New()
	h.Write(key[:])
	h.Write([]byte("\x00owner\x00" + owner))
	var k cacheKey
	h.Sum(k[:0])
	return k, owner, tok, nil
}
