#!/usr/bin/env bash
# The shell baseline: what site.yml does to fresh lab nodes, written the way a
# careful human would script it by hand, steps in parallel where they can be.
# No checks, no idempotence, no secrets hygiene: it is the yardstick for speed.
#
#   baseline.sh STACK_DIR MANAGER WORKER...
#
# MANAGER and WORKERs are lab node containers (reached with docker exec).
# STACK_DIR holds the compose file and nginx.conf that site.yml rendered for
# the same shape, so both deploy the very same stack. The environment gives
# IMAGES (the stack's images, saved from this machine's engine), SECRETS (the
# external secrets to create) and STORAGE (the hostname labelled storage=true).
set -euo pipefail
stack_dir=$1 manager=$2
shift 2
workers=("$@")
nodes=("$manager" "${workers[@]}")

# Runs "$@ NODE" for each node given after --, in parallel; fails if any does.
each() {
  local cmd=() pids=() node
  while [[ $1 != -- ]]; do cmd+=("$1"); shift; done
  shift
  for node in "$@"; do "${cmd[@]}" "$node" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid"; done
}

install_docker() {
  docker exec "$1" sh -c 'apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io \
      $(apt-cache show docker-cli >/dev/null 2>&1 && echo docker-cli) >/dev/null &&
    systemctl enable --now docker >/dev/null 2>&1 &&
    until docker info >/dev/null 2>&1; do sleep 0.5; done'
}

load_images() { docker exec -i "$1" docker load -q <"$archive" >/dev/null; }

join() { docker exec "$1" docker swarm join --token "$token" --advertise-addr eth0 "$manager_addr:2377" >/dev/null; }

archive=$(mktemp)
trap 'rm -f "$archive"' EXIT
# shellcheck disable=SC2086  # IMAGES is a list of image references
docker save $IMAGES >"$archive"

each install_docker -- "${nodes[@]}"
each load_images -- "${nodes[@]}"

docker exec "$manager" docker swarm init --advertise-addr eth0 >/dev/null
manager_addr=$(docker exec "$manager" docker info --format '{{.Swarm.NodeAddr}}')
token=$(docker exec "$manager" docker swarm join-token -q worker)
each join -- "${workers[@]}"

docker exec "$manager" docker node update --label-add storage=true "$STORAGE" >/dev/null
for secret in $SECRETS; do
  head -c 24 /dev/urandom | base64 | docker exec -i "$manager" docker secret create "$secret" - >/dev/null
done
docker exec "$manager" mkdir -p /root/gallery
docker cp "$stack_dir/." "$manager:/root/gallery/" >/dev/null
docker exec -w /root/gallery "$manager" docker stack deploy -c docker-stack.yml gallery >/dev/null
