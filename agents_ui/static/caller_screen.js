/* The caller screen as it pops in the phone panel (templates/_phone.html), drawn from the
 * `screen_pop` payload (docs/realtime.md) the moment a call rings: flags and value segment, the
 * open tickets with their live service-level clocks (counted down by sla.js), the latest entries
 * of the timeline (a recording or a voicemail with its player, the audio streamed by the helpdesk
 * at `s.audio_url`) and how much history there is. The whole record is one click away on the
 * caller screen page (/calls/<id>).
 *
 * Everything is built with createElement and textContent: a caller's name or an SMS body is
 * never parsed as markup.
 */
(function () {
  "use strict";

  var OPEN_TICKETS = 5;
  var RECENT = 5;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  /* "1 ticket" / "3 tickets": the singular and the plural form come with the wording (French
   * uses the singular for 0 and 1, English for 1 only). */
  function count(s, what, n) {
    var one = n === 1 || (n === 0 && document.documentElement.lang === "fr");
    return one ? String(s[what + "_one"]).replace("1", String(n)) : fill(s[what + "_other"], { n: n });
  }

  function pick(table, code) {
    return (table && Object.prototype.hasOwnProperty.call(table, code)) ? table[code] : code;
  }

  function when(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    var zone = document.querySelector('meta[name="helpdesk-timezone"]');
    try {
      return date.toLocaleString(document.documentElement.lang || undefined, {
        dateStyle: "short", timeStyle: "short",
        timeZone: zone ? zone.getAttribute("content") : undefined
      });
    } catch (e) {
      return date.toLocaleString();
    }
  }

  /* The hour and minute of an ISO time, on the helpdesk's clock. */
  function clock(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    var zone = document.querySelector('meta[name="helpdesk-timezone"]');
    try {
      return date.toLocaleTimeString(document.documentElement.lang || undefined, {
        hour: "2-digit", minute: "2-digit",
        timeZone: zone ? zone.getAttribute("content") : undefined
      });
    } catch (e) {
      return date.toLocaleTimeString();
    }
  }

  function ticketUrl(id) {
    var meta = document.querySelector('meta[name="helpdesk-ticket-url"]');
    var base = meta ? meta.getAttribute("content") : "/tickets/0";
    return base.replace(/\/0$/, "/" + encodeURIComponent(id));
  }

  function facts(screen, s) {
    var wrap = el("div", "screen-facts");
    var customer = screen.customer;
    if (!customer) {
      wrap.appendChild(el("p", "muted", s.unknown));
      return wrap;
    }
    var flags = (customer.flags || []);
    if (flags.length || customer.segment) {
      var list = el("ul", "flags");
      list.setAttribute("aria-label", s.flags);
      flags.forEach(function (f) {
        list.appendChild(el("li", "badge flag flag-" + f, pick(s.flag, f)));
      });
      if (customer.segment) {
        var code = String(customer.segment);
        var seg = el("li", "badge segment-badge seg seg-" + code, pick(s.segment, code));
        var hint = pick(s.segment_hint, code);
        if (hint !== code) seg.title = hint;
        list.appendChild(seg);
      }
      wrap.appendChild(list);
    }
    var line = [];
    if (customer.company && customer.company.name) line.push(customer.company.name);
    var history = screen.history || {};
    line.push(count(s, "tickets", history.tickets || 0) + ", " + count(s, "calls", history.calls || 0));
    var csat = screen.satisfaction;
    if (csat && csat.responses) {
      line.push(fill(s.satisfaction, { avg: csat.average, n: csat.responses }));
    }
    wrap.appendChild(el("p", "muted", line.join(" · ")));
    return wrap;
  }

  /* The customer models' scores: lifetime value, churn risk and its top drivers, worded with
   * the templates of `s.driver` (agents_ui/model_labels.driver_templates). */
  function scores(screen, s) {
    var sc = screen.scores;
    if (!sc || !screen.customer) return null;
    var lang = document.documentElement.lang || undefined;
    function money(cents) {
      try {
        return new Intl.NumberFormat(lang, { style: "currency", currency: "EUR" }).format(cents / 100);
      } catch (e) {
        return (cents / 100).toFixed(2);
      }
    }
    function percent(ratio) {
      try {
        return new Intl.NumberFormat(lang, { style: "percent" }).format(ratio);
      } catch (e) {
        return Math.round(ratio * 100) + "%";
      }
    }
    var box = el("div", "screen-scores");
    var line = [fill(s.clv, { amount: money(sc.clv_cents || 0) })];
    if (sc.churn_risk != null) line.push(fill(s.churn_risk, { pct: percent(sc.churn_risk) }));
    else if (/\+rules$/.test(String(sc.method || ""))) line.push(s.no_churn_model);
    else line.push(s.not_scored);
    box.appendChild(el("p", "scores-line", line.join(" · ")));
    var drivers = sc.drivers || [];
    if (drivers.length) {
      var list = el("ul", "reasons");
      list.setAttribute("aria-label", s.why_risk);
      drivers.forEach(function (d) {
        var t = (s.driver || {})[d.code];
        if (!t) { list.appendChild(el("li", null, d.text || d.code)); return; }
        var n = Math.round(Math.abs(d.value || 0));
        var one = n === 1 || (n === 0 && lang === "fr");
        list.appendChild(el("li", null, fill(one ? t.one : t.other, {
          n: n,
          amount: money(d.value || 0),
          pct: percent(Math.abs(d.value || 0)),
          score: (4 - (d.value || 0)).toFixed(1)
        })));
      });
      box.appendChild(list);
    }
    return box;
  }

  function openTickets(screen, s) {
    var box = el("div", "screen-tickets");
    box.appendChild(el("h3", "screen-heading", s.open_tickets));
    var rows = (screen.open_tickets || []).slice(0, OPEN_TICKETS);
    if (!rows.length) {
      box.appendChild(el("p", "muted", s.no_open_tickets));
      return box;
    }
    var list = el("ul", "screen-list");
    rows.forEach(function (t) {
      var item = el("li");
      var link = el("a", null, t.reference + " " + t.subject);
      link.href = ticketUrl(t.id);
      item.appendChild(link);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(el("span", "badge status status-" + t.status, pick(s.status, t.status)));
      if (t.sla && t.sla.length) {
        var badge = el("span", "sla");
        badge.setAttribute("data-sla-ticket", String(t.id));
        badge.setAttribute("data-sla-clocks", JSON.stringify(t.sla));
        badge.setAttribute("data-sla-quiet", "");
        item.appendChild(document.createTextNode(" "));
        item.appendChild(badge);
      }
      list.appendChild(item);
    });
    box.appendChild(list);
    var more = (screen.open_tickets || []).length - rows.length;
    var moreText = more === 1 ? s.one_more_ticket : fill(s.more_tickets, { n: more });
    if (more > 0) box.appendChild(el("p", "muted", moreText));
    return box;
  }

  /* `725` as `12 min 5 s`, with the units' wording from the page (as sla_display.duration). */
  function duration(seconds, t) {
    var total = Math.floor(Math.abs(seconds));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = total % 60;
    if (hours) {
      var text = fill(t.hour, { n: hours });
      return minutes ? text + " " + fill(t.min, { n: minutes }) : text;
    }
    if (minutes) return secs ? fill(t.min, { n: minutes }) + " " + fill(t.sec, { n: secs }) : fill(t.min, { n: minutes });
    return fill(t.sec, { n: secs });
  }

  /* A timeline entry's line in the agent's language, worded from its data as the console's
   * pages do (agents_ui/wording.py); an entry of another kind keeps its stored summary. */
  function summary(e, s) {
    var t = s.timeline || {};
    var data = e.data || {};
    if (e.kind === "ticket_status" && data.to && e.ticket_ref) {
      return fill(t.status, { ref: e.ticket_ref, old: pick(s.status, data.from), "new": pick(s.status, data.to) });
    }
    if (e.kind === "call" && data.direction) {
      var parts = [pick(t.direction, data.direction)];
      if (data.outcome) parts.push(pick(t.outcome, data.outcome));
      if (data.wait_s) parts.push(fill(t.waited, { time: duration(data.wait_s, t) }));
      if (data.talk_s) parts.push(fill(t.talked, { time: duration(data.talk_s, t) }));
      return parts.join(" · ");
    }
    if (e.kind === "call_note" && data.notes != null) {
      return data.disposition
        ? fill(t.note, { disposition: pick(t.disposition, data.disposition), notes: data.notes })
        : fill(t.note_plain, { notes: data.notes });
    }
    if (e.kind === "visit" && data.event && data.reference && t.visit) {
      var key = data.event;
      if (key === "en_route" && data.eta_at) key = "en_route_eta";
      if ((key === "completed" || key === "cancelled") && data.notes) key += "_notes";
      if (t.visit[key]) {
        return fill(t.visit[key], {
          ref: data.reference, what: data.what || "", name: data.technician || "",
          notes: data.notes || "", n: data.score, time: clock(data.eta_at)
        });
      }
    }
    if (e.kind === "voicemail" && data.duration_s != null) {
      return fill(t.voicemail, { time: duration(data.duration_s, t) });
    }
    if (e.kind === "email" && t.email) return emailSummary(e, data, t.email);
    return e.summary;
  }

  /* An e-mail entry as agents_ui/mail_wording.py words it: address and subject from the data,
   * else read back from the stored English summary. */
  var EMAIL_SUMMARY = /^E-mail (from|to) (\S+?): ?([\s\S]*)$/;
  function emailSummary(e, data, m) {
    if (data.outcome === "bounced") return m.bounced;
    var found = EMAIL_SUMMARY.exec(e.summary || "");
    var direction = data.direction || (found ? (found[1] === "from" ? "inbound" : "outbound") : "");
    var address = data.address || (found ? found[2] : "");
    var subject = data.subject || (found ? found[3] : "");
    if (!address) return e.summary;
    var parts = [fill(direction === "outbound" ? m.to : m.from, { address: address, subject: subject })];
    var files = data.attachments;
    var count = Array.isArray(files) ? files.length : (typeof files === "number" ? files : 0);
    if (count) parts.push(count === 1 ? m.files_one : fill(m.files_other, { n: count }));
    if (data.outcome === "ignored") parts.push(m.ignored);
    return parts.join(" · ");
  }

  /* The player of a recording or voicemail entry: its audio comes from the helpdesk, which checks
   * the agent may hear it, never from the provider. */
  function player(e, s) {
    var data = e.data || {};
    var id = Number(data.recording_id);
    if ((e.kind !== "recording" && e.kind !== "voicemail") || !id || !s.audio_url) return null;
    var audio = el("audio", "recording-player");
    audio.controls = true;
    audio.preload = "none";
    audio.setAttribute("aria-label", s.play_recording || "");
    audio.src = String(s.audio_url).replace(/\/0\/audio$/, "/" + id + "/audio");
    return audio;
  }

  function recent(screen, s) {
    var box = el("div", "screen-recent");
    box.appendChild(el("h3", "screen-heading", s.recent));
    var rows = (screen.timeline || []).slice(0, RECENT);
    if (!rows.length) {
      box.appendChild(el("p", "muted", s.no_history));
      return box;
    }
    var list = el("ol", "screen-list");
    rows.forEach(function (e) {
      var item = el("li");
      item.appendChild(el("span", "muted", when(e.occurred_at)));
      item.appendChild(document.createTextNode(" "));
      item.appendChild(el("span", "badge timeline-kind", pick(s.kind, e.kind)));
      item.appendChild(document.createTextNode(" "));
      item.appendChild(el("span", "screen-summary", summary(e, s)));
      var audio = player(e, s);
      if (audio) item.appendChild(audio);
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  /* Draw `screen` into `container`, replacing what was there. */
  function render(container, screen, strings) {
    if (!container) return;
    while (container.firstChild) container.removeChild(container.firstChild);
    if (!screen) {
      container.hidden = true;
      return;
    }
    var s = strings || {};
    container.appendChild(facts(screen, s));
    var scored = scores(screen, s);
    if (scored) container.appendChild(scored);
    if (screen.customer) {
      var columns = el("div", "screen-columns");
      columns.appendChild(openTickets(screen, s));
      columns.appendChild(recent(screen, s));
      container.appendChild(columns);
    }
    container.hidden = false;
    if (window.HelpdeskSla) window.HelpdeskSla.adopt(container);
  }

  window.HelpdeskCallerScreen = { render: render };
})();
