/*
 * @system.file: the app's files. `internal://files|mass|cache|tmp/<path>` are directories of the
 * app's own in the watch's filestore (the start order's `data`; the shell sees them); a path
 * without a scheme ('/common/a.txt') is the app's package, read-only. tmp is read-only too
 * (files the system hands the app). As documented: fail 202 for a bad parameter (a uri outside
 * these, `..`, writing where the app may not), 300 for an I/O error, 301 when readText /
 * readArrayBuffer find no file; success gets the values the vendor lists.
 */
'use strict'

const fs = require('fs')
const path = require('path')

const { CODE, options, makeModule } = require('../calls')

const PARTITIONS = ['files', 'mass', 'cache', 'tmp']
const ENCODINGS = { 'utf-8': 'utf8', utf8: 'utf8', ascii: 'ascii', 'iso-8859-1': 'latin1' }

class Refused extends Error {
  constructor(message, code) {
    super(message)
    this.code = code
  }
}

module.exports = function file(app, id) {
  const made = new Set()
  // Where `uri` is, and the uri of a path below it; throws Refused(202) for a uri the app may
  // not use there (`write`: it changes the file).
  const locate = (uri, write) => {
    if (typeof uri !== 'string' || !uri) throw new Refused('uri must be a string', CODE.PARAMETER)
    if (uri.split(/[\\/]/).includes('..')) {
      throw new Refused(uri + ': a uri must not hold ..', CODE.PARAMETER)
    }
    const match = /^internal:\/\/([a-z]+)(?:\/(.*))?$/.exec(uri)
    if (match) {
      const part = match[1]
      if (!PARTITIONS.includes(part) || !app.data[part]) {
        const known = 'internal://files|mass|cache|tmp/'
        throw new Refused(uri + ': no such partition (' + known + ')', CODE.PARAMETER)
      }
      if (write && part === 'tmp') throw new Refused(uri + ': tmp is read-only', CODE.PARAMETER)
      if (!made.has(part)) {
        fs.mkdirSync(app.data[part], { recursive: true }) // a partition is always there
        made.add(part)
      }
      const rest = match[2] || ''
      const base = 'internal://' + part + '/' + rest
      return { where: path.join(app.data[part], rest), uri: base, below: (n) => join(base, n) }
    }
    if (/^[a-z]+:/i.test(uri)) throw new Refused(uri + ': not a uri of this app', CODE.PARAMETER)
    if (write) throw new Refused(uri + ': the app package is read-only', CODE.PARAMETER)
    const rel = uri.replace(/^\/+/, '')
    return { where: path.join(app.dir, rel), uri: uri, below: (n) => join(uri, n) }
  }
  const join = (base, name) => (base.endsWith('/') ? base + name : base + '/' + name)

  // Runs `work()` (which throws Refused, or a node fs error) and answers with what it returns.
  const perform = (opts, work, missing) => {
    let value
    try {
      value = work(options(opts))
    } catch (e) {
      if (e instanceof Refused) app.refuse(opts, e.message, e.code)
      else if (e.code === 'ENOENT') app.refuse(opts, 'file does not exist', missing || CODE.IO)
      else app.refuse(opts, 'I/O error: ' + (e.code || e.message), CODE.IO)
      return
    }
    if (value !== null && typeof value === 'object' && value.raw) app.answerRaw(opts, value.raw)
    else app.answer(opts, value)
  }
  const encoding = (name) => {
    const found = ENCODINGS[String(name || 'UTF-8').toLowerCase()]
    if (!found) throw new Refused('unsupported encoding ' + name, CODE.PARAMETER)
    return found
  }
  const bytes = (buffer) => {
    if (ArrayBuffer.isView(buffer)) {
      return Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    }
    if (Object.prototype.toString.call(buffer) === '[object ArrayBuffer]') {
      return Buffer.from(buffer)
    }
    throw new Refused('buffer must be a Uint8Array', CODE.PARAMETER)
  }
  const entry = (at, uri, recursive) => {
    const stat = fs.statSync(at)
    const info = {
      uri: uri,
      length: stat.isDirectory() ? 0 : stat.size,
      lastModifiedTime: Math.round(stat.mtimeMs),
      type: stat.isDirectory() ? 'dir' : 'file',
    }
    if (stat.isDirectory() && recursive !== undefined) {
      info.subFiles = fs
        .readdirSync(at)
        .sort()
        .map((n) => entry(path.join(at, n), join(uri, n), recursive ? true : undefined))
    }
    return info
  }
  const parentOf = (where) => fs.mkdirSync(path.dirname(where), { recursive: true })

  return makeModule(app, id, {
    writeText(opts) {
      perform(opts, (o) => {
        const target = locate(o.uri, true).where
        if (typeof o.text !== 'string') throw new Refused('text must be a string', CODE.PARAMETER)
        const enc = encoding(o.encoding)
        parentOf(target)
        if (o.append) fs.appendFileSync(target, o.text, enc)
        else fs.writeFileSync(target, o.text, enc)
      })
    },
    readText(opts) {
      perform(
        opts,
        (o) => ({ text: fs.readFileSync(locate(o.uri, false).where, encoding(o.encoding)) }),
        CODE.NO_FILE
      )
    },
    writeArrayBuffer(opts) {
      perform(opts, (o) => {
        const target = locate(o.uri, true).where
        const data = bytes(o.buffer)
        parentOf(target)
        if (o.append) {
          fs.appendFileSync(target, data)
          return
        }
        const fd = fs.openSync(target, fs.existsSync(target) ? 'r+' : 'w')
        try {
          fs.writeSync(fd, data, 0, data.length, Math.max(0, Number(o.position) || 0))
        } finally {
          fs.closeSync(fd)
        }
      })
    },
    readArrayBuffer(opts) {
      perform(
        opts,
        (o) => {
          const all = fs.readFileSync(locate(o.uri, false).where)
          const start = Math.max(0, Number(o.position) || 0)
          const length = Math.max(0, Number(o.length) || 0)
          const end = o.length === undefined ? all.length : start + length
          const chunk = all.subarray(start, end)
          const result = app.object()
          result.buffer = new app.global.Uint8Array(chunk.length)
          result.buffer.set(chunk)
          return { raw: result }
        },
        CODE.NO_FILE
      )
    },
    access(opts) {
      perform(opts, (o) => {
        fs.statSync(locate(o.uri, false).where)
      })
    },
    mkdir(opts) {
      perform(opts, (o) => {
        fs.mkdirSync(locate(o.uri, true).where, { recursive: Boolean(o.recursive) })
      })
    },
    rmdir(opts) {
      perform(opts, (o) => {
        const target = locate(o.uri, true).where
        if (!fs.statSync(target).isDirectory()) {
          throw new Refused(o.uri + ' is not a directory', CODE.IO)
        }
        if (o.recursive) fs.rmSync(target, { recursive: true })
        else fs.rmdirSync(target)
      })
    },
    list(opts) {
      perform(opts, (o) => {
        const at = locate(o.uri, false)
        const names = fs.readdirSync(at.where).sort()
        const fileList = names.map((n) => {
          const info = entry(path.join(at.where, n), at.below(n))
          return { uri: info.uri, lastModifiedTime: info.lastModifiedTime, length: info.length }
        })
        return { fileList: fileList }
      })
    },
    get(opts) {
      perform(opts, (o) => {
        const at = locate(o.uri, true)
        return entry(at.where, at.uri, Boolean(o.recursive))
      })
    },
    delete(opts) {
      perform(opts, (o) => {
        const target = locate(o.uri, true).where
        if (fs.statSync(target).isDirectory()) {
          throw new Refused(o.uri + ' is a directory: use rmdir', CODE.IO)
        }
        fs.unlinkSync(target)
      })
    },
    move(opts) {
      perform(opts, (o) => {
        const from = locate(o.srcUri, true).where
        const to = locate(o.dstUri, true)
        fs.statSync(from)
        parentOf(to.where)
        fs.renameSync(from, to.where)
        return to.uri
      })
    },
    copy(opts) {
      perform(opts, (o) => {
        const from = locate(o.srcUri, false).where
        const to = locate(o.dstUri, true)
        parentOf(to.where)
        fs.copyFileSync(from, to.where)
        return to.uri
      })
    },
  })
}
