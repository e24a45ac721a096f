# Convenience wrappers; dev.py does the work and needs only Python 3.11+.
.PHONY: run test bench lint setup
run:
	python3 dev.py run
test:
	python3 dev.py test
bench:
	python3 dev.py bench
lint:
	python3 dev.py lint
setup:
	python3 dev.py setup
