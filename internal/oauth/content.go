package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inlay/inlay/internal/storage"
)

// Content is what integrations are associated with. Its id is one of
//
//	dashboard:<dashboard id>      a dashboard served by Inlay
//	datasource:<data source name> a configured data source
//	<guid>                        an external application registered with its own API key
//
// Only content associated with an integration gets tokens of it.
type Content struct {
	GUID        string    `json:"guid"`
	Name        string    `json:"name"`
	CreatedTime time.Time `json:"created_time"`
}

type storedContent struct {
	Content
	KeyHash []byte `json:"key_hash"`
}

// AppKeyPrefix starts every external application's API key.
const AppKeyPrefix = "inlay_app_"

// AppKeyID returns the public id part of an application API key (not its secret), to key
// per-application limits by; "" when key does not have an API key's shape.
func AppKeyID(key string) string {
	rest, ok := strings.CutPrefix(key, AppKeyPrefix)
	id, _, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || len(id) != 32 {
		return ""
	}
	return id
}

// Content id prefixes of Inlay's own content.
const (
	ContentDashboard  = "dashboard:"
	ContentDataSource = "datasource:"
)

// CreateContent registers an external application and returns its API key (shown once; only a
// keyed hash is kept).
func (b *Broker) CreateContent(ctx context.Context, name string) (Content, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) {
		return Content{}, "", &ValidationError{Problems: map[string]string{"name": "1 to 200 characters"}}
	}
	c := Content{GUID: newGUID(), Name: name, CreatedTime: b.now().UTC()}
	key := AppKeyPrefix + strings.ReplaceAll(c.GUID, "-", "") + "_" + randomString(32)
	v, err := json.Marshal(storedContent{Content: c, KeyHash: b.keys.HashSecret(key)})
	if err != nil {
		return Content{}, "", err
	}
	if err := b.store.CreateRecord(ctx, storage.Record{Kind: kindContent, Key: c.GUID, Value: v}); err != nil {
		return Content{}, "", err
	}
	return c, key, nil
}

// ListContent lists the registered external applications.
func (b *Broker) ListContent(ctx context.Context) ([]Content, error) {
	rs, err := b.store.ListRecords(ctx, kindContent, "")
	if err != nil {
		return nil, err
	}
	out := make([]Content, 0, len(rs))
	for _, r := range rs {
		var c storedContent
		if err := json.Unmarshal(r.Value, &c); err != nil {
			return nil, err
		}
		out = append(out, c.Content)
	}
	return out, nil
}

// DeleteContent removes an external application and its associations.
func (b *Broker) DeleteContent(ctx context.Context, guid string) error {
	if err := b.store.DeleteRecord(ctx, kindContent, guid); errors.Is(err, storage.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	if err := b.store.DeleteRecord(ctx, kindAssoc, guid); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return nil
}

// AuthenticateContent returns the guid of the application whose API key this is. A malformed
// key, an unknown application and a wrong key all give the same error.
func (b *Broker) AuthenticateContent(ctx context.Context, key string) (string, error) {
	bad := newErr(CodeInvalidClient, "invalid_client", "a valid content API key is required (Authorization: Key <key>)")
	rest, ok := strings.CutPrefix(key, AppKeyPrefix)
	id, _, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || len(id) != 32 {
		b.keys.VerifySecret(key, nil)
		return "", bad
	}
	guid := id[0:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:32]
	r, err := b.store.GetRecord(ctx, kindContent, guid)
	if errors.Is(err, storage.ErrNotFound) {
		b.keys.VerifySecret(key, nil)
		return "", bad
	} else if err != nil {
		return "", err
	}
	var c storedContent
	if err := json.Unmarshal(r.Value, &c); err != nil {
		return "", err
	}
	if !b.keys.VerifySecret(key, c.KeyHash) {
		return "", bad
	}
	return guid, nil
}

// ContentExists reports whether id names content: a dashboard or data source Inlay knows (asked
// of known), or a registered application.
func (b *Broker) ContentExists(ctx context.Context, id string, known func(string) bool) (bool, error) {
	if strings.HasPrefix(id, ContentDashboard) || strings.HasPrefix(id, ContentDataSource) {
		return known != nil && known(id), nil
	}
	if !IsGUID(id) {
		return false, nil
	}
	_, err := b.store.GetRecord(ctx, kindContent, id)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Association is one integration associated with content.
type Association struct {
	IntegrationGUID string `json:"oauth_integration_guid"`
	Name            string `json:"oauth_integration_name"`
	Description     string `json:"oauth_integration_description"`
	Template        string `json:"oauth_integration_template"`
	AuthType        string `json:"oauth_integration_auth_type"`
}

// SetAssociations replaces the content's associations with the integrations named (guid or
// name). Unknown integrations fail the whole call; nothing changes then.
func (b *Broker) SetAssociations(ctx context.Context, content string, integrations []string) ([]Association, error) {
	guids := []string{}
	for i, g := range integrations {
		it, err := b.load(ctx, g)
		if errors.Is(err, ErrNotFound) {
			return nil, &ValidationError{Problems: map[string]string{fmt.Sprintf("[%d].oauth_integration_guid", i): "no such integration"}}
		} else if err != nil {
			return nil, err
		}
		dup := false
		for _, x := range guids {
			dup = dup || x == it.GUID
		}
		if !dup {
			guids = append(guids, it.GUID)
		}
	}
	v, _ := json.Marshal(guids)
	if err := b.store.PutRecord(ctx, storage.Record{Kind: kindAssoc, Key: content, Value: v}); err != nil {
		return nil, err
	}
	return b.Associations(ctx, content)
}

// Associations lists the integrations associated with content.
func (b *Broker) Associations(ctx context.Context, content string) ([]Association, error) {
	guids, err := b.associated(ctx, content)
	if err != nil {
		return nil, err
	}
	out := []Association{}
	for _, g := range guids {
		it, err := b.load(ctx, g)
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, Association{IntegrationGUID: it.GUID, Name: it.Name, Description: it.Description,
			Template: it.Template, AuthType: it.AuthType})
	}
	return out, nil
}

func (b *Broker) associated(ctx context.Context, content string) ([]string, error) {
	r, err := b.store.GetRecord(ctx, kindAssoc, content)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var guids []string
	if err := json.Unmarshal(r.Value, &guids); err != nil {
		return nil, err
	}
	return guids, nil
}

// ContentOf lists the content an integration is associated with (ids as in Content).
func (b *Broker) ContentOf(ctx context.Context, guidOrName string) ([]string, error) {
	it, err := b.load(ctx, guidOrName)
	if err != nil {
		return nil, err
	}
	rs, err := b.store.ListRecords(ctx, kindAssoc, "")
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, r := range rs {
		var guids []string
		if json.Unmarshal(r.Value, &guids) == nil && slices.Contains(guids, it.GUID) {
			out = append(out, r.Key)
		}
	}
	return out, nil
}
