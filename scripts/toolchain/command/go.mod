// Wrapper module that pins pulumi-resource-command v1.2.1. Upstream has no provider/ tag, so the
// commit of tag v1.2.1 is pinned as a pseudo-version. Kept apart from the CLI wrapper so that
// minimal version selection does not move the provider onto the CLI's SDK.
module geartrain.local/toolchain/command

go 1.25.11
