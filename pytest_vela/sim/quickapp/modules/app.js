/*
 * @system.app: getInfo() from the manifest, terminate() ends the app, canIUse() answers for
 * what the simulated watch emulates.
 */
'use strict'

const { emulates, makeModule } = require('../calls')
const { sysLine } = require('../format')

// The components the watch's documentation lists; nothing is rendered, every tag is accepted.
const COMPONENTS = new Set(
  (
    'div list list-item scroll stack swiper text span a image image-animator progress ' +
    'qrcode marquee input slider switch picker canvas'
  ).split(' ')
)

module.exports = function appModule(app, id, isEmulated) {
  return makeModule(app, id, {
    getInfo() {
      const m = app.manifest || {}
      return app.toApp({
        packageName: app.pkg,
        icon: m.icon,
        name: m.name,
        versionName: m.versionName,
        versionCode: m.versionCode,
        logLevel: (m.config || {}).logLevel,
        source: { packageName: 'com.vela.shell', type: 'shortcut', extra: {} },
      })
    },
    terminate() {
      app.system(sysLine('app', 'terminate', []))
      app.exit()
    },
    // '@system.router.push', '@system.router', 'scroll' or 'scroll.attr.scroll-x'.
    canIUse(query) {
      const text = String(query)
      if (!text.startsWith('@')) return COMPONENTS.has(text.split('.')[0])
      const parts = text.slice(1).split('.')
      const moduleId = parts.slice(0, 2).join('.')
      if (!isEmulated(moduleId)) return false
      return parts.length < 3 || emulates(app.require(moduleId), parts[2])
    },
  })
}
