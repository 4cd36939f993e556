# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: demo demo-oauth test ui build bench

demo: ui
	go run ./cmd/inlay demo $(DEMO_FLAGS)

# The demo with a local OpenID provider standing in for Databricks (docs/oauth.md).
demo-oauth: ui
	bash scripts/demo-oauth.sh $(DEMO_FLAGS)

test:
	bash scripts/test.sh

ui:
	bash scripts/build-ui.sh

build: ui
	go build -o bin/inlay ./cmd/inlay

bench: ui
	go run -tags bench ./cmd/inlay bench
