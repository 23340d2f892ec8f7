// The shop's admin in the browser: plain JavaScript modules over the REST API, routed by the
// URL's hash (#/orders/<id>), drawn with DOM calls (never as markup strings: names and addresses are
// customers' text).

import { api, ApiError, currentUser, signIn, signOut } from "./api.js";

const main = document.getElementById("main");
const bar = document.getElementById("bar");
const nav = document.getElementById("nav");
const who = document.getElementById("who");

// The order status machine of API.md: what each status may move to next.
const NEXT = {
  pending: ["paid", "cancelled"],
  paid: ["processing", "cancelled", "refunded"],
  processing: ["shipped", "cancelled", "refunded"],
  shipped: ["delivered", "refunded"],
  delivered: ["refunded"],
};
const STATUSES = ["pending", "paid", "processing", "shipped", "delivered", "cancelled", "refunded"];

/** An element: `h("a", {href: "#/"}, "Home")`. Strings become text, never markup. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const svg = (tag, attrs = {}, ...children) => {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
};

const money = (m) => (m ? `${m.amount} ${m.currency}` : "");
const when = (t) => new Date(t).toLocaleString();
const badge = (text, kind = text) => h("span", { class: `badge ${kind}` }, text.replace("_", " "));
const isStaff = (user) => user && (user.role === "admin" || user.role === "manager");

function stockBadge(product) {
  if (product.inventory_count === 0) return badge("out of stock", "out");
  if (product.inventory_count <= (product.low_stock_threshold ?? 5)) return badge("low stock", "low");
  return null;
}

function show(...content) {
  main.replaceChildren(...content);
  main.focus();
}

function notice(text) {
  const box = document.getElementById("notice");
  box.textContent = text;
  setTimeout(() => {
    if (box.textContent === text) box.textContent = "";
  }, 5000);
}

function failure(error) {
  const text = error instanceof ApiError ? error.message : "The shop could not be reached.";
  return h("p", { class: "message error", role: "alert" }, text);
}

function table(headers, rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, headers.map(([text, cls]) => h("th", { scope: "col", class: cls }, text)))),
      h("tbody", {}, rows),
    ),
  );
}

function orderRow(order) {
  return h(
    "tr",
    {},
    h("td", {}, h("a", { href: `#/orders/${order.id}` }, order.number)),
    h("td", { class: "wide" }, when(order.created_at)),
    h("td", {}, badge(order.status)),
    h("td", { class: "num" }, money(order.totals.total)),
  );
}

const ORDER_HEADERS = [["Number"], ["Placed", "wide"], ["Status"], ["Total", "num"]];

// ---- sign in ----

function signInView(message) {
  const error = h("p", { class: "message error", role: "alert", hidden: !message }, message || "");
  const form = h(
    "form",
    { class: "card signin", novalidate: true },
    h("h1", {}, "Sign in to run the shop"),
    h("label", { for: "email" }, "Email"),
    h("input", { id: "email", name: "email", type: "email", autocomplete: "username", required: true }),
    h("label", { for: "password" }, "Password"),
    h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    error,
    h("div", { class: "row" }, h("button", { type: "submit" }, "Sign in")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await signIn(form.email.value.trim(), form.password.value);
      signedIn();
      // Where the admin was going (a link opened before signing in), else home.
      route();
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 401 ? "That email and password do not match an account." : e.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  bar.hidden = true;
  show(form);
  form.email.focus();
}

function signedIn() {
  const user = currentUser();
  const links = [["#/", "Home"]];
  if (isStaff(user)) links.push(["#/orders", "Orders"]);
  links.push(["#/products", "Products"]);
  if (isStaff(user)) links.push(["#/reviews", "Reviews"], ["#/discounts", "Discounts"]);
  nav.replaceChildren(...links.map(([href, text]) => h("a", { href }, text)));
  who.textContent = `${user.email} (${user.role})`;
  bar.hidden = false;
}

document.getElementById("sign-out").addEventListener("click", async () => {
  await signOut();
  location.hash = "#/";
  signInView("You are signed out.");
});

// ---- home ----

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/** The last 14 days of the sales report as bars. */
function salesChart(days) {
  const width = 560;
  const height = 140;
  const most = Math.max(1, ...days.map((d) => d.revenue));
  const step = width / days.length;
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Sales of the last ${days.length} days` });
  days.forEach((d, i) => {
    const bar = Math.round(((height - 20) * d.revenue) / most);
    const rect = svg("rect", { x: i * step + 3, y: height - 16 - bar, width: step - 6, height: bar });
    rect.append(svg("title", {}, `${d.date}: ${d.revenue} ${d.currency}, ${d.orders} orders`));
    chart.append(rect, svg("text", { x: i * step + step / 2, y: height - 3, "text-anchor": "middle" }, d.date.slice(8)));
  });
  return chart;
}

async function homeView() {
  const user = currentUser();
  if (!isStaff(user)) return productsView();
  show(h("h1", {}, "Home"), h("p", { class: "muted" }, "Loading…"));
  try {
    const today = new Date();
    const from = new Date(today.getTime() - 13 * 86400000);
    const [dashboard, report, paid, processing, pending] = await Promise.all([
      api("GET", "/admin/dashboard"),
      api("GET", `/admin/reports/sales?from=${isoDay(from)}&to=${isoDay(today)}`),
      api("GET", "/admin/orders?status=paid&limit=10"),
      api("GET", "/admin/orders?status=processing&limit=10"),
      api("GET", "/admin/orders?status=pending&limit=10"),
    ]);
    const days = report
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => {
        const [date, orders, revenue, currency] = line.split(",");
        return { date, orders: Number(orders), revenue: Number(revenue), currency };
      });
    const last = days[days.length - 1] || { revenue: 0, orders: 0, currency: dashboard.revenue.currency };
    const fulfil = [...paid.items, ...processing.items];
    show(
      h("h1", {}, "Home"),
      h(
        "div",
        { class: "grid" },
        h(
          "section",
          { class: "card", "aria-labelledby": "today" },
          h("h2", { id: "today" }, "Today's sales"),
          h("p", { class: "figure" }, `${report.trim().split("\n").pop().split(",")[2]} ${last.currency}`),
          h("p", { class: "muted" }, `${last.orders} paid order${last.orders === 1 ? "" : "s"} today · ${dashboard.orders_today} placed`),
          salesChart(days),
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "low" },
          h("h2", { id: "low" }, "Out of or low on stock"),
          dashboard.low_stock.length === 0
            ? h("p", { class: "muted" }, "Every product has stock.")
            : h("ul", {}, dashboard.low_stock.map((p) =>
                h("li", {}, h("a", { href: `#/products/${p.id}` }, p.name), " ", stockBadge(p), ` ${p.inventory_count} left`))),
        ),
      ),
      h("section", { "aria-labelledby": "fulfil" }, h("h2", { id: "fulfil" }, "Orders to fulfil"),
        fulfil.length === 0 ? h("p", { class: "muted" }, "Nothing to ship.") : table(ORDER_HEADERS, fulfil.map(orderRow))),
      h("section", { "aria-labelledby": "awaiting" }, h("h2", { id: "awaiting" }, "Orders awaiting payment"),
        pending.items.length === 0 ? h("p", { class: "muted" }, "None.") : table(ORDER_HEADERS, pending.items.map(orderRow))),
    );
  } catch (e) {
    show(h("h1", {}, "Home"), failure(e));
  }
}

// ---- orders ----

async function ordersView(params) {
  const status = params.get("status") || "";
  const cursor = params.get("cursor") || "";
  const number = params.get("number") || "";
  const filter = h(
    "select",
    { id: "status", name: "status" },
    h("option", { value: "" }, "every status"),
    STATUSES.map((s) => h("option", { value: s, selected: s === status }, s)),
  );
  filter.addEventListener("change", () => {
    location.hash = filter.value ? `#/orders?status=${filter.value}` : "#/orders";
  });
  const search = h(
    "form",
    { class: "row", role: "search" },
    h("label", { for: "order-number" }, "Order number"),
    h("input", { id: "order-number", name: "number", value: number, placeholder: "CM-20261206-…", autocomplete: "off" }),
    h("button", { type: "submit", class: "secondary" }, "Find"),
  );
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = search.number.value.trim();
    location.hash = wanted ? `#/orders?number=${encodeURIComponent(wanted)}` : "#/orders";
  });
  const header = [h("h1", {}, "Orders"), search, h("div", { class: "row" }, h("label", { for: "status" }, "Status"), filter)];
  show(...header, h("p", { class: "muted" }, "Loading…"));
  try {
    const query = new URLSearchParams({ limit: "20" });
    if (status) query.set("status", status);
    if (number) query.set("number", number);
    if (cursor) query.set("cursor", cursor);
    const page = await api("GET", `/admin/orders?${query}`);
    const more = new URLSearchParams();
    if (status) more.set("status", status);
    if (page.next_cursor) more.set("cursor", page.next_cursor);
    show(
      ...header,
      page.items.length === 0
        ? h("p", { class: "muted" }, number ? `No order is numbered ${number}.` : "No orders.")
        : table(ORDER_HEADERS, page.items.map(orderRow)),
      h("div", { class: "row" },
        cursor ? h("a", { class: "button secondary", href: status ? `#/orders?status=${status}` : "#/orders" }, "First page") : null,
        page.next_cursor ? h("a", { class: "button", href: `#/orders?${more}` }, "Next page") : null),
    );
  } catch (e) {
    show(...header, failure(e));
  }
}

function address(a) {
  if (!a) return "";
  return [a.full_name, a.line1, a.line2, [a.postal_code, a.city].filter(Boolean).join(" "), a.region, a.country]
    .filter(Boolean)
    .join(", ");
}

async function orderView(id, message) {
  show(h("p", { class: "muted" }, "Loading…"));
  let order;
  try {
    order = await api("GET", `/orders/${id}`);
  } catch (e) {
    return show(h("h1", {}, "Order"), failure(e));
  }
  const status = h("span", { id: "order-status" }, badge(order.status));
  const feedback = h("div", { "aria-live": "polite" }, message ? h("p", { class: "message ok" }, message) : null);
  const move = async (next, button) => {
    // Cancelling and refunding give money or stock back: asked once more.
    const undoable = next !== "cancelled" && next !== "refunded";
    if (!undoable && !window.confirm(`Move order ${order.number} to ${next}? This cannot be undone.`)) return;
    button.disabled = true;
    try {
      await api("PUT", `/admin/orders/${id}/status`, { body: { status: next } });
      orderView(id, `Order ${order.number} is now ${next}.`);
    } catch (e) {
      feedback.replaceChildren(failure(e));
      button.disabled = false;
    }
  };
  const buttons = (NEXT[order.status] || []).map((next) => {
    const button = h("button", { type: "button", class: next === "cancelled" || next === "refunded" ? "danger" : "", "data-status": next }, next);
    button.addEventListener("click", () => move(next, button));
    return button;
  });
  const amount = h("input", { id: "refund-amount", name: "amount", inputmode: "decimal", placeholder: "all that is left" });
  const refund = h(
    "form",
    { class: "row" },
    h("label", { for: "refund-amount" }, "Refund"),
    amount,
    h("button", { type: "submit", class: "secondary" }, "Refund"),
  );
  refund.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = amount.value.trim();
    try {
      await api("POST", `/admin/orders/${id}/refund`, { body: value ? { amount: value } : {} });
      orderView(id, value ? `Refunded ${value} ${order.totals.total.currency}.` : "Refunded in full.");
    } catch (e) {
      feedback.replaceChildren(failure(e));
    }
  });
  const invoice = h("button", { type: "button", class: "secondary" }, "Invoice (PDF)");
  invoice.addEventListener("click", async () => {
    try {
      const response = await api("GET", `/orders/${id}/invoice`, { raw: true });
      const url = URL.createObjectURL(await response.blob());
      const link = h("a", { href: url, download: `invoice-${order.number}.pdf` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      feedback.replaceChildren(failure(e));
    }
  });
  const t = order.totals;
  show(
    h("p", {}, h("a", { href: "#/orders" }, "← Orders")),
    h("h1", {}, `Order ${order.number} `, status),
    feedback,
    h("div", { class: "row", role: "group", "aria-label": "Move the order to" }, buttons.length ? [h("span", { class: "muted" }, "Move to:"), ...buttons] : h("span", { class: "muted" }, "No further status.")),
    ["paid", "processing", "shipped", "delivered"].includes(order.status) ? refund : null,
    h("div", { class: "row" }, invoice),
    table(
      [["Item"], ["SKU", "wide"], ["Qty", "num"], ["Unit", "num"], ["Discount", "num"], ["Tax", "num"], ["Subtotal", "num"]],
      order.items.map((i) =>
        h("tr", {}, h("td", {}, i.name), h("td", { class: "wide" }, i.sku || ""), h("td", { class: "num" }, i.quantity),
          h("td", { class: "num" }, money(i.unit_price)), h("td", { class: "num" }, money(i.discount)),
          h("td", { class: "num" }, money(i.tax)), h("td", { class: "num" }, money(i.subtotal)))),
    ),
    h(
      "div",
      { class: "grid" },
      h("section", { class: "card" }, h("h2", {}, "Totals"),
        h("dl", {}, h("dt", {}, "Subtotal"), h("dd", {}, money(t.subtotal)), h("dt", {}, "Discount"), h("dd", {}, money(t.discount)),
          h("dt", {}, "Shipping"), h("dd", {}, money(t.shipping)), h("dt", {}, "Tax"), h("dd", {}, money(t.tax)),
          h("dt", {}, "Total"), h("dd", {}, h("strong", {}, money(t.total))))),
      h("section", { class: "card" }, h("h2", {}, "Delivery and payment"),
        h("dl", {}, h("dt", {}, "Ship to"), h("dd", {}, address(order.shipping_address)),
          h("dt", {}, "Method"), h("dd", {}, order.shipping_method ? order.shipping_method.name : "—"),
          h("dt", {}, "Payment"), h("dd", {}, badge(order.payment_status)),
          h("dt", {}, "Placed"), h("dd", {}, when(order.created_at)))),
      h("section", { class: "card" }, h("h2", {}, "History"),
        h("ol", { class: "history" }, order.status_history.map((c) => h("li", {}, `${c.status} · ${when(c.at)}`)))),
    ),
  );
}

// ---- products ----

async function productsView(params = new URLSearchParams()) {
  const user = currentUser();
  const status = params.get("status") || "";
  const cursor = params.get("cursor") || "";
  const filter = h(
    "select",
    { id: "product-status", name: "status" },
    h("option", { value: "" }, "every status"),
    ["active", "pending_approval", "draft", "archived"].map((s) => h("option", { value: s, selected: s === status }, s.replace("_", " "))),
  );
  filter.addEventListener("change", () => {
    location.hash = filter.value ? `#/products?status=${filter.value}` : "#/products";
  });
  const header = [h("h1", {}, user.role === "vendor" ? "Your products" : "Products"),
    h("div", { class: "row" }, h("label", { for: "product-status" }, "Status"), filter)];
  show(...header, h("p", { class: "muted" }, "Loading…"));
  try {
    const query = new URLSearchParams({ limit: "20" });
    if (status) query.set("status", status);
    if (cursor) query.set("cursor", cursor);
    const page = await api("GET", `/admin/products?${query}`);
    const approve = async (product, button) => {
      button.disabled = true;
      try {
        await api("PUT", `/admin/products/${product.id}/approve`);
        notice(`${product.name} is approved and for sale.`);
        route();
      } catch (e) {
        notice(e.message);
        button.disabled = false;
      }
    };
    const rows = page.items.map((p) => {
      const approveButton = isStaff(user) && p.status === "pending_approval" ? h("button", { type: "button" }, "Approve") : null;
      if (approveButton) approveButton.addEventListener("click", () => approve(p, approveButton));
      return h("tr", {},
        h("td", {}, h("a", { href: `#/products/${p.id}` }, p.name)),
        h("td", {}, badge(p.status)),
        h("td", { class: "num" }, money(p.price)),
        h("td", { class: "num" }, String(p.inventory_count), " ", stockBadge(p)),
        h("td", {}, approveButton));
    });
    const more = new URLSearchParams();
    if (status) more.set("status", status);
    if (page.next_cursor) more.set("cursor", page.next_cursor);
    show(
      ...header,
      rows.length === 0 ? h("p", { class: "muted" }, "No products.") :
        table([["Name"], ["Status"], ["Price", "num"], ["Stock", "num"], [""]], rows),
      h("div", { class: "row" },
        cursor ? h("a", { class: "button secondary", href: "#/products" }, "First page") : null,
        page.next_cursor ? h("a", { class: "button", href: `#/products?${more}` }, "Next page") : null),
    );
  } catch (e) {
    show(...header, failure(e));
  }
}

async function productView(id) {
  show(h("p", { class: "muted" }, "Loading…"));
  let product;
  try {
    product = await api("GET", `/products/${id}`);
  } catch (e) {
    return show(h("h1", {}, "Product"), failure(e));
  }
  const feedback = h("div", { "aria-live": "polite" });
  const field = (name, label, value, attrs = {}) => [
    h("label", { for: `product-${name}` }, label),
    h("input", { id: `product-${name}`, name, value, ...attrs }),
  ];
  const byVariant = product.variants && product.variants.length > 0;
  const form = h(
    "form",
    { class: "card", id: "product-form" },
    h("h2", {}, "Details"),
    field("name", "Name", product.name, { required: true, maxlength: 200 }),
    field("price", `Price (${product.price.currency})`, product.price.amount, { inputmode: "decimal", required: true }),
    byVariant
      ? h("p", { class: "muted" }, "Stock is kept per variant.")
      : field("inventory_count", "Stock", product.inventory_count, { type: "number", min: 0, step: 1, required: true }),
    h("div", { class: "row" }, h("button", { type: "submit" }, "Save"),
      h("span", { class: "muted" }, `version ${product.version}`)),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const changes = { name: form.name.value.trim(), price: form.price.value.trim() };
    if (!byVariant) changes.inventory_count = Number(form.inventory_count.value);
    try {
      const saved = await api("PUT", `/products/${id}`, {
        body: changes,
        headers: { "if-match": `"${product.version}"` },
      });
      product = saved;
      feedback.replaceChildren(h("p", { class: "message ok" }, `Saved ${saved.name}.`));
      form.querySelector(".row .muted").textContent = `version ${saved.version}`;
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        const reload = h("button", { type: "button", class: "secondary" }, "Load their changes");
        reload.addEventListener("click", () => productView(id));
        feedback.replaceChildren(h("div", { class: "message error", role: "alert", id: "conflict" },
          "Someone else changed this product after you opened it, so your changes were not saved. ",
          "Load their changes, then make yours again. ", reload));
      } else {
        feedback.replaceChildren(failure(e));
      }
    }
  });
  const upload = h("input", { id: "image-file", type: "file", accept: "image/png,image/jpeg,image/webp,image/gif" });
  const uploadForm = h("form", { class: "row" }, h("label", { for: "image-file" }, "Add an image"), upload,
    h("button", { type: "submit", class: "secondary" }, "Upload"));
  uploadForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!upload.files.length) return;
    const data = new FormData();
    data.append("file", upload.files[0]);
    try {
      await api("POST", `/products/${id}/images`, { form: data });
      productView(id);
    } catch (e) {
      feedback.replaceChildren(failure(e));
    }
  });
  const images = h("div", { class: "images" }, (product.images || []).map((image) => {
    const remove = h("button", { type: "button", class: "secondary" }, "Remove");
    remove.addEventListener("click", async () => {
      try {
        await api("DELETE", `/products/${id}/images/${image.id}`);
        productView(id);
      } catch (e) {
        feedback.replaceChildren(failure(e));
      }
    });
    return h("figure", {}, h("img", { src: image.url, alt: product.name }), remove);
  }));
  show(
    h("p", {}, h("a", { href: "#/products" }, "← Products")),
    h("h1", {}, product.name, " ", badge(product.status), " ", stockBadge(product)),
    feedback,
    form,
    byVariant ? table([["SKU"], ["Options"], ["Stock", "num"]], product.variants.map((v) =>
      h("tr", {}, h("td", {}, v.sku), h("td", {}, Object.entries(v.options).map(([k, x]) => `${k}: ${x}`).join(", ")),
        h("td", { class: "num" }, v.inventory_count)))) : null,
    h("section", { class: "card" }, h("h2", {}, "Images"), images, uploadForm),
  );
}

// ---- reviews ----

async function reviewsView(params) {
  const status = params.get("status") || "";
  const cursor = params.get("cursor") || "";
  const filter = h(
    "select",
    { id: "review-status", name: "status" },
    h("option", { value: "" }, "every status"),
    ["approved", "rejected", "pending"].map((s) => h("option", { value: s, selected: s === status }, s)),
  );
  filter.addEventListener("change", () => {
    location.hash = filter.value ? `#/reviews?status=${filter.value}` : "#/reviews";
  });
  const header = [
    h("h1", {}, "Reviews"),
    h("p", { class: "muted" }, "Reviews are published when written; hide one that breaks the shop's rules."),
    h("div", { class: "row" }, h("label", { for: "review-status" }, "Status"), filter),
  ];
  show(...header, h("p", { class: "muted" }, "Loading…"));
  try {
    const query = new URLSearchParams({ limit: "20" });
    if (status) query.set("status", status);
    if (cursor) query.set("cursor", cursor);
    const page = await api("GET", `/admin/reviews?${query}`);
    const moderate = async (review, next, button) => {
      button.disabled = true;
      try {
        await api("PUT", `/admin/reviews/${review.id}`, { body: { status: next } });
        notice(next === "rejected" ? `Hidden: “${review.title}”.` : `Published: “${review.title}”.`);
        route();
      } catch (e) {
        notice(e.message);
        button.disabled = false;
      }
    };
    const rows = page.items.map((r) => {
      const next = r.status === "approved" ? "rejected" : "approved";
      const button = h("button", { type: "button", class: next === "rejected" ? "danger" : "" },
        next === "rejected" ? "Hide" : "Publish");
      button.addEventListener("click", () => moderate(r, next, button));
      return h("tr", {},
        h("td", {}, h("strong", {}, r.title), h("br"), r.body, h("br"),
          h("a", { href: `#/products/${r.product_id}` }, "the product")),
        h("td", { "aria-label": `${r.rating} of 5` }, "★".repeat(r.rating) + "☆".repeat(5 - r.rating)),
        h("td", { class: "wide" }, when(r.created_at)),
        h("td", {}, badge(r.status)),
        h("td", {}, button));
    });
    const more = new URLSearchParams();
    if (status) more.set("status", status);
    if (page.next_cursor) more.set("cursor", page.next_cursor);
    show(
      ...header,
      rows.length === 0 ? h("p", { class: "muted" }, "No reviews.") :
        table([["Review"], ["Rating"], ["Written", "wide"], ["Status"], [""]], rows),
      h("div", { class: "row" },
        cursor ? h("a", { class: "button secondary", href: "#/reviews" }, "First page") : null,
        page.next_cursor ? h("a", { class: "button", href: `#/reviews?${more}` }, "Next page") : null),
    );
  } catch (e) {
    show(...header, failure(e));
  }
}

// ---- discounts ----

async function discountsView() {
  const feedback = h("div", { "aria-live": "polite" });
  const kind = h("select", { id: "discount-kind", name: "kind" },
    ["percent", "fixed", "free_shipping"].map((k) => h("option", { value: k }, k.replace("_", " "))));
  const form = h(
    "form",
    { class: "card" },
    h("h2", {}, "New discount code"),
    h("label", { for: "discount-code" }, "Code"),
    h("input", { id: "discount-code", name: "code", required: true, pattern: "[A-Za-z0-9_-]{1,64}" }),
    h("label", { for: "discount-kind" }, "Kind"),
    kind,
    h("label", { for: "discount-value" }, "Value (percent, or an amount)"),
    h("input", { id: "discount-value", name: "value", inputmode: "decimal" }),
    h("div", { class: "row" }, h("button", { type: "submit" }, "Create")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { code: form.code.value.trim(), kind: kind.value };
    if (kind.value !== "free_shipping") body.value = form.value.value.trim();
    try {
      await api("POST", "/admin/discounts", { body });
      notice(`Discount ${body.code.toUpperCase()} created.`);
      discountsView();
    } catch (e) {
      feedback.replaceChildren(failure(e));
    }
  });
  show(h("h1", {}, "Discounts"), h("p", { class: "muted" }, "Loading…"));
  try {
    const page = await api("GET", "/admin/discounts?limit=100");
    show(
      h("h1", {}, "Discounts"),
      feedback,
      page.items.length === 0 ? h("p", { class: "muted" }, "No discounts yet.") :
        table([["Code"], ["Kind"], ["Value", "num"], ["Used", "num"], ["Active"]], page.items.map((d) =>
          h("tr", {}, h("td", {}, d.code || "(automatic)"), h("td", {}, d.kind), h("td", { class: "num" }, d.value ?? ""),
            h("td", { class: "num" }, d.used_count), h("td", {}, d.active ? "yes" : "no")))),
      form,
    );
  } catch (e) {
    show(h("h1", {}, "Discounts"), failure(e));
  }
}

// ---- routing ----

function route() {
  if (!currentUser()) return signInView();
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query || "");
  const parts = (path || "/").split("/").filter(Boolean);
  for (const link of nav.querySelectorAll("a")) {
    const target = link.getAttribute("href").replace(/^#/, "");
    const current = target === "/" ? parts.length === 0 : `/${parts[0]}` === target;
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  switch (parts[0]) {
    case undefined:
      return homeView();
    case "orders":
      return parts[1] ? orderView(parts[1]) : ordersView(params);
    case "products":
      return parts[1] ? productView(parts[1]) : productsView(params);
    case "reviews":
      return reviewsView(params);
    case "discounts":
      return discountsView();
    default:
      return show(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Home")));
  }
}

window.addEventListener("hashchange", route);
route();
