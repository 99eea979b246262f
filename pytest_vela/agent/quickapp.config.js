// Build settings of the agent (read by aiot-toolkit): numbered webpack modules without path
// comments, so a bundle's text depends on its sources alone, never on where the project or the
// toolkit sits on the building machine. The shipped rpk is checked against a fresh build by it.
module.exports = {
  postHook(webpackConf) {
    webpackConf.output = Object.assign({}, webpackConf.output, { pathinfo: false })
    webpackConf.optimization = Object.assign({}, webpackConf.optimization, {
      moduleIds: 'natural',
      chunkIds: 'natural',
    })
  },
}
