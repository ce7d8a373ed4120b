// Passkeys on the two-factor pages (core.passkeys): add one on the setup page
// (form[data-passkey="register"]) and use one at sign-in (form[data-passkey="verify"]).
// Each form names its two steps: data-begin-url answers the options for
// navigator.credentials.create()/get(), data-complete-url checks the browser's answer and
// replies where to go next. Requests carry the form's CSRF token; nothing runs inline (CSP).
(() => {
  "use strict";

  const bytesFromBase64url = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  };

  const base64urlFromBytes = (buffer) => {
    let binary = "";
    new Uint8Array(buffer).forEach((byte) => {
      binary += String.fromCharCode(byte);
    });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  const withIds = (descriptors) =>
    (descriptors || []).map((d) => ({ ...d, id: bytesFromBase64url(d.id) }));

  const creationOptions = (json) => ({
    ...json,
    challenge: bytesFromBase64url(json.challenge),
    user: { ...json.user, id: bytesFromBase64url(json.user.id) },
    excludeCredentials: withIds(json.excludeCredentials),
  });

  const requestOptions = (json) => ({
    ...json,
    challenge: bytesFromBase64url(json.challenge),
    allowCredentials: withIds(json.allowCredentials),
  });

  const registrationJSON = (credential) => ({
    id: credential.id,
    rawId: base64urlFromBytes(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: {
      clientDataJSON: base64urlFromBytes(credential.response.clientDataJSON),
      attestationObject: base64urlFromBytes(credential.response.attestationObject),
      transports: credential.response.getTransports ? credential.response.getTransports() : [],
    },
  });

  const assertionJSON = (credential) => ({
    id: credential.id,
    rawId: base64urlFromBytes(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: {
      clientDataJSON: base64urlFromBytes(credential.response.clientDataJSON),
      authenticatorData: base64urlFromBytes(credential.response.authenticatorData),
      signature: base64urlFromBytes(credential.response.signature),
      userHandle: credential.response.userHandle
        ? base64urlFromBytes(credential.response.userHandle)
        : null,
    },
  });

  // Keel's refusal ({"detail": ...}), or words for a failure that is not one.
  class Refused extends Error {}

  const post = async (url, form, body) => {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": form.querySelector("input[name=csrfmiddlewaretoken]").value,
        },
        body: JSON.stringify(body),
      });
    } catch {
      throw new Refused("Keel could not be reached. Check your connection and try again.");
    }
    const data = await response.json().catch(() => null);
    if (!response.ok || data === null) {
      throw new Refused(
        (data && data.detail) || "Your session has expired: reload the page and try again.",
      );
    }
    return data;
  };

  // The browser's WebAuthn errors, in words.
  const describe = (error) => {
    if (error instanceof Refused) return error.message;
    switch (error && error.name) {
      case "NotAllowedError":
        return "The passkey request was cancelled or timed out. Try again when you are ready.";
      case "InvalidStateError":
        return "This device already has a passkey for your Keel account.";
      case "SecurityError":
        return "This browser refused passkeys for this address. Open Keel at its usual address.";
      case "NotSupportedError":
        return "This device or security key does not support the kind of passkey Keel needs.";
      case "AbortError":
        return "The passkey request was cancelled.";
      default:
        return "Something went wrong with the passkey. Try again, or use another way.";
    }
  };

  const ceremonies = {
    register: async (form) => {
      const options = await post(form.dataset.beginUrl, form, {});
      const credential = await navigator.credentials.create({
        publicKey: creationOptions(options),
      });
      const name = form.querySelector("input[name=name]");
      return post(form.dataset.completeUrl, form, {
        name: name ? name.value : "",
        credential: registrationJSON(credential),
      });
    },
    verify: async (form) => {
      const options = await post(form.dataset.beginUrl, form, {});
      const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
      return post(form.dataset.completeUrl, form, { credential: assertionJSON(credential) });
    },
  };

  const setUp = (form) => {
    const status = form.querySelector("[data-passkey-status]");
    const button = form.querySelector("button[type=submit]");
    const show = (message) => {
      status.textContent = message;
      status.hidden = !message;
    };
    form.hidden = false;
    if (!window.PublicKeyCredential || !navigator.credentials) {
      button.disabled = true;
      show("This browser does not support passkeys. Use an authenticator app code instead.");
      return;
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      show("");
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      try {
        const result = await ceremonies[form.dataset.passkey](form);
        window.location.assign(result.redirect);
      } catch (error) {
        show(describe(error));
        button.disabled = false;
        button.removeAttribute("aria-busy");
        button.focus();
      }
    });
  };

  document.querySelectorAll("form[data-passkey]").forEach(setUp);
})();
