// The dev phone's page: send as the handset, and poll the thread every second.
"use strict";

(function () {
  const form = document.getElementById("handset");
  const victim = document.getElementById("victim");
  const number = document.getElementById("number");
  const body = document.getElementById("body");
  const picture = document.getElementById("picture");
  const outcome = document.getElementById("outcome");
  const thread = document.getElementById("thread");
  const empty = document.getElementById("thread-empty");
  let shown = "";

  function channel() {
    return form.querySelector('input[name="channel"]:checked').value;
  }

  function say(text, isError) {
    outcome.textContent = text;
    outcome.classList.toggle("error", Boolean(isError));
  }

  function render(messages) {
    const key = JSON.stringify(messages);
    if (key === shown) return; // Unchanged: leave the list (and screen readers) alone.
    shown = key;
    thread.replaceChildren();
    empty.hidden = messages.length > 0;
    empty.textContent = "No messages with this handset on this channel yet.";
    for (const message of messages) {
      const item = document.createElement("li");
      item.className = message.direction;
      const who = message.direction === "from_handset" ? "Handset" : "Service";
      item.textContent = message.body || (message.num_media ? "(picture)" : "");
      const meta = document.createElement("span");
      meta.className = "meta";
      const time = new Date(message.created_at).toLocaleTimeString();
      const error = message.error_code ? ", error " + message.error_code : "";
      const media = message.num_media ? " · picture attached" : "";
      meta.textContent = who + " · " + time + " · " + message.status + error + media;
      item.appendChild(meta);
      thread.appendChild(item);
    }
  }

  async function refresh() {
    if (!number.value.trim()) return;
    const params = new URLSearchParams({ handset: number.value.trim(), channel: channel() });
    try {
      const response = await fetch(form.dataset.threadUrl + "?" + params);
      if (response.ok) render(await response.json());
    } catch (err) {
      // The app restarting: the next poll will catch up.
    }
  }

  victim.addEventListener("change", function () {
    const option = victim.selectedOptions[0];
    if (!option || !option.value) return;
    number.value = option.value;
    const radio = form.querySelector('input[name="channel"][value="' + option.dataset.channel + '"]');
    if (radio) radio.checked = true;
    shown = "";
    refresh();
  });
  number.addEventListener("change", function () { shown = ""; refresh(); });
  form.querySelectorAll('input[name="channel"]').forEach(function (radio) {
    radio.addEventListener("change", function () { shown = ""; refresh(); });
  });

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    say("Sending…");
    const payload = {
      handset: number.value.trim(),
      channel: channel(),
      body: body.value,
      num_media: picture.checked ? 1 : 0,
    };
    try {
      const response = await fetch(form.dataset.sendUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      const answer = await response.json();
      if (!response.ok) {
        say(answer.error || "Not sent (HTTP " + response.status + ")", true);
        return;
      }
      say("Sent; the service's webhook answered HTTP " + answer.webhook_status + ".",
          answer.webhook_status >= 300);
      body.value = "";
      picture.checked = false;
      refresh();
    } catch (err) {
      say("Not sent: the dev phone did not answer.", true);
    }
  });

  refresh();
  setInterval(refresh, 1000);
})();
