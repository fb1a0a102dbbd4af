const fs = require('node:fs');
module.exports = async () => {
  if (process.env.MESHX_TEST_TMP) fs.rmSync(process.env.MESHX_TEST_TMP, { recursive: true, force: true });
};
