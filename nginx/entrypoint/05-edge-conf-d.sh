#!/bin/sh
# Run by the image's entrypoint first. The templates are rendered into conf.d; on a read-only root file
# system that is an empty tmpfs (docker-compose.yml), without the image's link to the http-level
# settings (nginx/Dockerfile): put it back.
set -e
[ -e /etc/nginx/conf.d/00-fibstack-http.conf ] || ln -s /etc/nginx/fibstack/http.conf /etc/nginx/conf.d/00-fibstack-http.conf
