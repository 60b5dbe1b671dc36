// Passkeys: Any-ID's only script, because WebAuthn has no HTML form. Every form marked
// data-passkey carries its ceremony's options (from the server) in data-options; this asks
// the browser for a credential and posts the answer with the form. Without JavaScript or
// WebAuthn the forms stay hidden and the page says passkeys are unavailable.
"use strict";

(function () {
  const PK = window.PublicKeyCredential;
  const supported = PK && typeof PK.parseRequestOptionsFromJSON === "function" &&
    typeof PK.parseCreationOptionsFromJSON === "function";
  const forms = document.querySelectorAll("form[data-passkey]");
  if (!supported || forms.length === 0) return;

  for (const note of document.querySelectorAll("[data-passkey-unsupported]")) note.hidden = true;

  for (const form of forms) {
    let options;
    try {
      options = JSON.parse(form.dataset.options);
    } catch (_) {
      continue;
    }
    form.hidden = false;
    const message = form.querySelector("[data-passkey-message]");
    const fail = () => { if (message) message.hidden = false; };
    let pending = null;

    const ask = async (mediation) => {
      if (pending) pending.abort();
      pending = new AbortController();
      const signal = pending.signal;
      if (form.dataset.passkey === "register") {
        const publicKey = PK.parseCreationOptionsFromJSON(options.publicKey);
        return navigator.credentials.create({ publicKey, signal });
      }
      const publicKey = PK.parseRequestOptionsFromJSON(options.publicKey);
      return navigator.credentials.get(mediation ? { publicKey, mediation, signal } : { publicKey, signal });
    };

    const submit = (credential) => {
      form.elements.credential.value = JSON.stringify(credential.toJSON());
      form.submit();
    };

    form.addEventListener("submit", async (event) => {
      if (form.elements.credential.value) return;
      event.preventDefault();
      if (message) message.hidden = true;
      try {
        const credential = await ask(null);
        if (credential) submit(credential); else fail();
      } catch (_) {
        fail();
      }
    });

    // Conditional UI: offer saved passkeys in the browser's autofill where it can.
    if (form.dataset.passkey === "login" && typeof PK.isConditionalMediationAvailable === "function") {
      PK.isConditionalMediationAvailable().then(async (available) => {
        if (!available) return;
        try {
          const credential = await ask("conditional");
          if (credential) submit(credential);
        } catch (_) {
          // Aborted by the button, or dismissed: the button still works.
        }
      });
    }
  }
})();
