/*
 * What `this.$element(id)` returns on the simulated watch, where nothing is rendered: a node
 * that answers the components' calls harmlessly. `getBoundingClientRect` gives the whole
 * screen, `animate` an animation whose `play` finishes after its duration, `focus` and any
 * other method (`scrollTo`, `swipeTo`, …) do nothing and call `success` / `complete`.
 */
'use strict'

const { options } = require('./calls')

const NOT_METHODS = new Set(['__esModule', 'then', 'toJSON', 'constructor'])

function makeElement(app, id) {
  const node = app.object()
  node.id = id
  node.attr = app.object()
  node.style = app.object()
  const width = Number(app.device.screen_width) || 0
  const height = Number(app.device.screen_height) || 0
  const own = {
    getBoundingClientRect(opts) {
      const rect = { left: 0, top: 0, right: width, bottom: height, width, height }
      app.answer(opts, rect)
    },
    focus() {},
    animate(keyframes, settings) {
      return animation(app, settings)
    },
  }
  const harmless = {}
  return new Proxy(node, {
    get(obj, prop) {
      if (Object.prototype.hasOwnProperty.call(obj, prop)) return obj[prop]
      if (Object.prototype.hasOwnProperty.call(own, prop)) return own[prop]
      if (typeof prop !== 'string' || NOT_METHODS.has(prop)) return undefined
      if (!harmless[prop]) {
        harmless[prop] = function (opts) {
          const o = options(opts)
          if (typeof o.success === 'function' || typeof o.complete === 'function') app.answer(o)
          return undefined
        }
      }
      return harmless[prop]
    },
  })
}

// The animation `animate(keyframes, {duration, delay, …})` returns: `play` finishes (and calls
// `onfinish`) after delay + duration ms of the watch's time; `finish`, `cancel` at once.
function animation(app, settings) {
  const s = typeof settings === 'number' ? { duration: settings } : options(settings)
  const span = Math.max(0, Number(s.duration) || 0) + Math.max(0, Number(s.delay) || 0)
  const anim = app.object()
  anim.playState = 'idle'
  anim.onfinish = null
  anim.oncancel = null
  let timer = 0
  const halt = (playState) => {
    app.clearTimer(timer)
    timer = 0
    anim.playState = playState
  }
  const end = () => {
    halt('finished')
    app.run(anim.onfinish, anim, [])
  }
  anim.play = () => {
    halt('running')
    timer = app.setTimer(false, end, span, [])
  }
  anim.reverse = anim.play
  anim.pause = () => halt('paused')
  anim.finish = end
  anim.cancel = () => {
    halt('idle')
    app.run(anim.oncancel, anim, [])
  }
  return anim
}

module.exports = { makeElement }
