# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: demo test ui build bench

demo: ui
	go run ./cmd/inlay demo $(DEMO_FLAGS)

test:
	bash scripts/test.sh

ui:
	bash scripts/build-ui.sh

build: ui
	go build -o bin/inlay ./cmd/inlay

bench: ui
	go run -tags bench ./cmd/inlay bench
