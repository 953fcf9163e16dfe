/* Card top-ups: mount Stripe's Payment Element on the pay page and confirm the payment (card
   details go from the browser to Stripe, never to us); on the status page, ask our status endpoint
   every few seconds until the payment is paid or cancelled. */
(function () {
  "use strict";

  var form = document.getElementById("top-up-form");
  if (form && window.Stripe) {
    var stripe = window.Stripe(form.dataset.publishableKey);
    var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
    var paymentElement = elements.create("payment");
    paymentElement.mount("#payment-element");
    var error = document.getElementById("top-up-error");
    var button = document.getElementById("top-up-submit");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      error.hidden = true;
      stripe
        .confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } })
        .then(function (result) {
          if (result.error) {
            // A declined card or a missing detail: say so and let the patient try again.
            error.textContent = result.error.message || "Your card was not accepted. Try again.";
            error.hidden = false;
            button.disabled = false;
          } else {
            window.location.assign(form.dataset.returnUrl);
          }
        });
    });
  }

  var status = document.getElementById("top-up-status");
  if (status && status.dataset.statusUrl) {
    var poll = function () {
      fetch(status.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          if (answer.state !== status.dataset.state) {
            status.dataset.state = answer.state;
            status.querySelector("p").textContent = answer.message;
          }
          if (answer.final) {
            window.location.reload();
          } else {
            window.setTimeout(poll, 3000);
          }
        })
        .catch(function () { window.setTimeout(poll, 10000); });
    };
    window.setTimeout(poll, 2000);
  }
})();
