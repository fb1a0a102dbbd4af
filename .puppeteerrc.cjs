// The machines this project builds on cannot download browsers: puppeteer (through
// @mermaid-js/mermaid-cli, used by the graph render test) drives Debian's chromium instead.
module.exports = { skipDownload: true };
