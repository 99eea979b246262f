/*
 * The app's pages: the manifest's router table, the stack of open pages and their life cycle,
 * as `@system.router` drives them.
 *
 * A page opens with onInit, onReady, onShow (after the router's params are set on it); the one
 * it covers gets onHide, and onShow again when it is back on top; a page leaves with onHide (if
 * it was on top) and onDestroy. Navigation happens after the call that asked for it, as the
 * framework does; `back` from the last page ends the app. A page's bundle runs anew for each
 * page opened (a module scope of its own), its compiled script kept for the app's run.
 */
'use strict'

const { LoadError } = require('./errors')
const { instantiate, forget } = require('./instance')

class Pages {
  constructor(app, router) {
    this.app = app
    this.entry = router.entry
    this.table = router.pages && typeof router.pages === 'object' ? router.pages : {}
    this.stack = [] // { name, info, vm }, the top last
  }

  // The page a uri names: a path ('/pages/detail'), a name ('pages/detail'), '/' (the page
  // whose path is '/', else the entry page); null when the app has no such page.
  resolve(uri) {
    if (typeof uri !== 'string' || !uri) return null
    const bare = uri.split('?')[0]
    const names = Object.keys(this.table)
    const byPath = names.find((name) => this.info(name).path === bare)
    if (byPath) return byPath
    if (bare === '/') return this.table[this.entry] ? this.entry : null
    const name = bare.replace(/^\//, '')
    if (this.table[name]) return name
    // A page's own file named too ('pages/detail/index'): the page it belongs to.
    return names.find((n) => name === n + '/' + this.info(n).component) || null
  }

  info(name) {
    const page = this.table[name] || {}
    return {
      name: name,
      path: typeof page.path === 'string' ? page.path : '/' + name,
      component: page.component || 'index',
    }
  }

  create(name, params) {
    const app = this.app
    const info = this.info(name)
    const file = name + '/' + info.component + '.js'
    const exported = app.evaluate(file)
    let def = exported.default
    if (!def && typeof exported.entry === 'function') {
      // Built with --enable-custom-component: entry(obj) defines the page in obj.default.
      const holder = app.object()
      exported.entry(holder)
      def = holder.default
    }
    if (!def || typeof def !== 'object') throw new LoadError(file + ' defines no page')
    const $page = { name: info.name, path: info.path, component: info.component }
    const extra = { $app: app.appVm, $page: $page, $valid: true, $visible: true }
    const vm = instantiate(app, def, extra, app.appVm)
    // Router params reach the page as strings, as the vendor documents them.
    Object.keys(params || {}).forEach((k) => {
      vm[k] = String(params[k])
    })
    return { name, info, vm }
  }

  top() {
    return this.stack[this.stack.length - 1]
  }

  instances() {
    return this.stack.map((page) => page.vm)
  }

  // --- life cycle ---

  enter(page) {
    this.stack.push(page)
    for (const hook of ['onInit', 'onReady', 'onShow']) this.app.hook(page.vm, hook)
  }

  hide(page) {
    page.vm.$visible = false
    this.app.hook(page.vm, 'onHide')
  }

  show(page) {
    page.vm.$visible = true
    this.app.hook(page.vm, 'onShow')
  }

  destroy(page) {
    page.vm.$valid = false
    this.app.hook(page.vm, 'onDestroy')
    forget(this.app, page.vm)
  }

  openEntry() {
    if (!this.entry || !this.table[this.entry]) {
      throw new LoadError('manifest.json has no router.entry page')
    }
    this.enter(this.create(this.entry, {}))
  }

  closeAll() {
    const top = this.top()
    if (top) this.hide(top)
    while (this.stack.length) this.destroy(this.stack.pop())
  }

  // --- what the router asks (each called after the app's call that asked for it) ---

  push(name, params, clearTask) {
    const page = this.create(name, params)
    const covered = this.top()
    if (covered) this.hide(covered)
    this.enter(page)
    if (clearTask) this.clear()
  }

  replace(name, params) {
    const page = this.create(name, params)
    const old = this.stack.pop()
    if (old) {
      this.hide(old)
      this.destroy(old)
    }
    this.enter(page)
  }

  // Back to the page of `path` (the most recent one open), else to the one before; from the
  // last page, the app ends.
  back(path) {
    if (this.stack.length <= 1) {
      this.app.exit()
      return
    }
    let target = this.stack.length - 2
    if (typeof path === 'string' && path.startsWith('/')) {
      const name = this.resolve(path)
      for (let i = this.stack.length - 2; i >= 0; i--) {
        if (this.stack[i].name === name) {
          target = i
          break
        }
      }
    }
    this.hide(this.top())
    while (this.stack.length > target + 1) this.destroy(this.stack.pop())
    this.show(this.top())
  }

  // Every page but the top one closes.
  clear() {
    const top = this.stack.pop()
    while (this.stack.length) this.destroy(this.stack.shift())
    if (top) this.stack.push(top)
  }

  state() {
    const top = this.top()
    return top ? { index: this.stack.length, name: top.name, path: top.info.path } : {}
  }
}

module.exports = { Pages }
