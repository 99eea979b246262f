// Build settings (read by aiot-toolkit): numbered webpack modules without path comments, so
// that no path of the building machine ends up in the bundles.
module.exports = {
  postHook(webpackConf) {
    webpackConf.output = Object.assign({}, webpackConf.output, { pathinfo: false })
    webpackConf.optimization = Object.assign({}, webpackConf.optimization, {
      moduleIds: 'natural',
      chunkIds: 'natural',
    })
  },
}
