#!/usr/bin/env bash
# `npm run package`: meshx-node for Python, Go and Java into dist/ with jsii-pacmak (after
# `npm run build`), with the machine's python3, go, java and mvn. Dependencies come from PyPI, the
# Go module proxy and Maven Central, except the three that these registries refuse here (README,
# Limits), which jsii-pacmak generates from the npm packages, as their publishers did:
#
#   dist/python/meshx_node-<v>-py3-none-any.whl, .tar.gz      PyPI dist meshx-node, module meshx_node
#   dist/go/meshxnode        module example.invalid/meshx-node-go/meshxnode, package meshxnode
#   dist/go/consul           github.com/cdktf/cdktf-provider-consul-go/consul/v10 (from @cdktf/provider-consul)
#   dist/java/io/meshx/meshx-node/<v>/                        Maven io.meshx:meshx-node, package io.meshx.node
#   dist/java/com/hashicorp/{cdktf,cdktf-provider-consul}/    (from the npm packages cdktf, @cdktf/provider-consul)
#
# dist/go and dist/java are laid out to be used as they are: a Go `replace` directive, a Maven
# file:// repository. C# (.NET) is not built: these machines have no .NET SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
# The machine's default Node (20) is past end-of-life; name exactly that version (README, Node.js).
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
pacmak=node_modules/.bin/jsii-pacmak

rm -rf dist
"$pacmak" --target=python --outdir dist
"$pacmak" --target=go --outdir dist . node_modules/@cdktf/provider-consul
"$pacmak" --target=java --outdir dist --mvn-define maven.javadoc.skip=true . node_modules/cdktf node_modules/@cdktf/provider-consul
ls dist/python dist/go
find dist/java -name '*.jar' ! -name '*-sources.jar' | sort
