#!/bin/sh
# Regenerates Sources/LlamaTokenizer/sentencepiece_model.pb.swift from
# sentencepiece_model.proto (SentencePiece, src/sentencepiece_model.proto, Apache-2.0).
# The generated file is committed; the build never runs protoc.
#
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from the
# swift-protobuf version in Package.swift, e.g. in a scratch package outside the repo:
#   swift build -c release --product protoc-gen-swift
# Usage: scripts/proto/regenerate.sh /path/to/protoc-gen-swift
set -eu
plugin="$1"
here="$(cd "$(dirname "$0")" && pwd)"
protoc --plugin=protoc-gen-swift="$plugin" --swift_out=Visibility=Public:"$here/../../Sources/LlamaTokenizer" \
  -I"$here" "$here/sentencepiece_model.proto"
