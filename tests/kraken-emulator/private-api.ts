/** Kraken private REST methods over one authenticated account. */
import { randomBytes } from 'node:crypto';
import { KrakenError, describeClose, describeOrder, type Account, type EmuOrder, type EmuTrade, type KrakenExchange, type Params } from './exchange.ts';
import { feeForVolume, findAsset, type FeeTiers } from './markets.ts';

const PAGE = 50;
const sec = (ms: number): number => ms / 1000;

const str = (params: Params, k: string): string | undefined => {
  const v = params[k];
  if (v !== undefined && typeof v !== 'string') throw new KrakenError('EGeneral:Invalid arguments');
  return v;
};
const flag = (params: Params, k: string): boolean => str(params, k) === 'true';
function intParam(params: Params, k: string): number | undefined {
  const v = str(params, k);
  if (v === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new KrakenError(`EGeneral:Invalid arguments:${k}`);
  return Number(v);
}

function amount(asset: string, n: number): string {
  return n.toFixed(findAsset(asset)?.decimals ?? 8);
}

export function orderInfo(ex: KrakenExchange, o: EmuOrder, withTrades: boolean): Record<string, unknown> {
  const p = o.pair;
  const f = (n: number | undefined) => (n === undefined ? '0' : n.toFixed(p.pairDecimals));
  const descr = {
    pair: p.altname,
    type: o.side,
    ordertype: o.ordertype,
    price: f(o.price),
    price2: f(o.price2),
    leverage: 'none',
    order: describeOrder(o),
    close: o.close ? describeClose(o.close, p) : '',
  };
  const avg = o.volExec > 0 ? o.cost / o.volExec : 0;
  return {
    refid: o.refid,
    userref: o.userref,
    ...(o.clOrdId !== null ? { cl_ord_id: o.clOrdId } : {}),
    status: o.status,
    ...(o.reason !== null ? { reason: o.reason } : {}),
    opentm: sec(o.opentm),
    ...(o.closetm !== null ? { closetm: sec(o.closetm) } : {}),
    starttm: 0,
    expiretm: 0,
    descr,
    vol: o.volume.toFixed(p.lotDecimals),
    vol_exec: o.volExec.toFixed(p.lotDecimals),
    cost: o.cost.toFixed(p.costDecimals),
    fee: o.fee.toFixed(p.costDecimals),
    price: avg.toFixed(p.pairDecimals),
    stopprice: o.ordertype !== 'market' && o.ordertype !== 'limit' ? f(o.price) : f(0),
    limitprice: o.ordertype.endsWith('-limit') ? f(o.price2) : o.ordertype === 'limit' ? f(o.price) : f(0),
    misc: '',
    oflags: o.oflags.join(','),
    ...(withTrades && o.trades.length > 0 ? { trades: o.trades } : {}),
  };
}

export function tradeInfo(t: EmuTrade): Record<string, unknown> {
  const p = t.pair;
  return {
    ordertxid: t.ordertxid,
    postxid: t.postxid,
    pair: p.key,
    time: sec(t.time),
    type: t.side,
    ordertype: t.ordertype,
    price: t.price.toFixed(p.pairDecimals),
    cost: t.cost.toFixed(p.costDecimals),
    fee: t.fee.toFixed(p.costDecimals),
    vol: t.vol.toFixed(p.lotDecimals),
    margin: (0).toFixed(p.costDecimals),
    leverage: '0',
    misc: '',
    trade_id: t.tradeId,
    maker: t.maker,
  };
}

function feeInfo(tiers: FeeTiers, volume: number): Record<string, string> {
  const { fee, tier, next } = feeForVolume(tiers, volume);
  const pct = (n: number) => n.toFixed(4);
  return {
    fee: pct(fee),
    minfee: pct(Math.min(...tiers.map((t) => t[1]))),
    maxfee: pct(Math.max(...tiers.map((t) => t[1]))),
    ...(next ? { nextfee: pct(next[1]), nextvolume: next[0].toFixed(4) } : { nextfee: '', nextvolume: '' }),
    tiervolume: tier.toFixed(4),
  };
}

function filterByTime<T>(items: T[], at: (x: T) => number, params: Params): T[] {
  const start = intParam(params, 'start');
  const end = intParam(params, 'end');
  return items.filter((x) => (start === undefined || sec(at(x)) > start) && (end === undefined || sec(at(x)) <= end));
}

function page<T>(items: T[], params: Params): T[] {
  const ofs = intParam(params, 'ofs') ?? 0;
  return items.slice(ofs, ofs + PAGE);
}

function byRef(o: EmuOrder, params: Params): boolean {
  const userref = str(params, 'userref');
  const cl = str(params, 'cl_ord_id');
  return (userref === undefined || o.userref === Number(userref)) && (cl === undefined || o.clOrdId === cl);
}

export function privateMethod(ex: KrakenExchange, acc: Account, method: string, params: Params): unknown {
  switch (method) {
    case 'Balance':
      return Object.fromEntries([...acc.balances].map(([a, n]) => [a, amount(a, n)]));
    case 'BalanceEx':
      return Object.fromEntries([...acc.balances].map(([a, n]) => [a, { balance: amount(a, n), hold_trade: amount(a, ex.held(acc, a)) }]));
    case 'TradeBalance': {
      const asset = findAsset(str(params, 'asset') ?? 'ZUSD');
      if (!asset) throw new KrakenError('EQuery:Unknown asset');
      const usd = [...acc.balances].reduce((s, [a, n]) => s + n * ex.usdPrice(a), 0);
      const inAsset = usd / ex.usdPrice(asset.id);
      const v = (n: number) => n.toFixed(4);
      return { eb: v(inAsset), tb: v(inAsset), m: v(0), uv: v(0), n: v(0), c: v(0), v: v(0), e: v(inAsset), mf: v(inAsset) };
    }
    case 'OpenOrders': {
      const withTrades = flag(params, 'trades');
      const open = ex.ordersOf(acc.key).filter((o) => (o.status === 'open' || o.status === 'pending') && byRef(o, params));
      return { open: Object.fromEntries(open.reverse().map((o) => [o.txid, orderInfo(ex, o, withTrades)])) };
    }
    case 'ClosedOrders': {
      const withTrades = flag(params, 'trades');
      const closetime = str(params, 'closetime') ?? 'both';
      const closed = ex
        .ordersOf(acc.key)
        .filter((o) => o.closetm !== null && byRef(o, params))
        .sort((a, b) => b.closetm! - a.closetm!);
      const inWindow = filterByTime(closed, (o) => (closetime === 'open' ? o.opentm : o.closetm!), params);
      return { closed: Object.fromEntries(page(inWindow, params).map((o) => [o.txid, orderInfo(ex, o, withTrades)])), count: inWindow.length };
    }
    case 'QueryOrders': {
      const raw = str(params, 'txid');
      if (!raw) throw new KrakenError('EGeneral:Invalid arguments');
      const ids = raw.split(',');
      if (ids.length > 50) throw new KrakenError('EGeneral:Invalid arguments');
      const withTrades = flag(params, 'trades');
      const out: Record<string, unknown> = {};
      const userref = str(params, 'userref');
      for (const id of ids) {
        const o = ex.orders.get(id);
        // Unknown ids are left out; ccxt's fetchOrder then raises OrderNotFound.
        if (o && o.key === acc.key && (userref === undefined || o.userref === Number(userref))) out[id] = orderInfo(ex, o, withTrades);
      }
      return out;
    }
    case 'TradesHistory': {
      const mine = filterByTime(ex.tradesOf(acc.key).slice().reverse(), (t) => t.time, params);
      return { trades: Object.fromEntries(page(mine, params).map((t) => [t.id, tradeInfo(t)])), count: mine.length };
    }
    case 'QueryTrades': {
      const raw = str(params, 'txid');
      if (!raw) throw new KrakenError('EGeneral:Invalid arguments');
      const ids = new Set(raw.split(','));
      return Object.fromEntries(ex.tradesOf(acc.key).filter((t) => ids.has(t.id)).map((t) => [t.id, tradeInfo(t)]));
    }
    case 'Ledgers': {
      const assets = (str(params, 'asset') ?? 'all').split(',').filter((a) => a !== '');
      const ids = assets.includes('all') ? null : new Set(assets.map((a) => findAsset(a)?.id ?? a));
      const type = str(params, 'type') ?? 'all';
      const rows = filterByTime(
        ex.ledger.filter((l) => l.key === acc.key && (ids === null || ids.has(l.asset)) && (type === 'all' || type === l.type)).reverse(),
        (l) => l.time,
        params,
      );
      const entry = (l: (typeof rows)[number]) => {
        const d = findAsset(l.asset)?.decimals ?? 8;
        return { refid: l.refid, time: sec(l.time), type: l.type, subtype: '', aclass: 'currency', asset: l.asset, amount: l.amount.toFixed(d), fee: l.fee.toFixed(d), balance: l.balance.toFixed(d) };
      };
      return { ledger: Object.fromEntries(page(rows, params).map((l) => [l.id, entry(l)])), count: rows.length };
    }
    case 'TradeVolume': {
      const volume = ex.volumeUsd(acc);
      const pairs = (str(params, 'pair') ?? '').split(',').filter((x) => x !== '').map((n) => ex.pair(n));
      const out: Record<string, unknown> = { currency: 'ZUSD', volume: volume.toFixed(4) };
      if (pairs.length > 0) {
        out.fees = Object.fromEntries(pairs.map((p) => [p.key, feeInfo(p.fees, volume)]));
        out.fees_maker = Object.fromEntries(pairs.map((p) => [p.key, feeInfo(p.feesMaker, volume)]));
      }
      return out;
    }
    case 'AddOrder':
      return ex.addOrder(acc, params);
    case 'AmendOrder':
      return ex.amendOrder(acc, params);
    case 'CancelOrder':
      return ex.cancelOrder(acc, params);
    case 'CancelAll':
      return ex.cancelAll(acc);
    case 'WithdrawMethods': {
      // Information only: the emulator serves no Withdraw, so nothing ever leaves an account.
      const asked = str(params, 'asset');
      const asset = asked === undefined ? undefined : findAsset(asked);
      if (asked !== undefined && !asset) throw new KrakenError('EQuery:Unknown asset');
      const held = [...acc.balances.keys()].filter((a) => asset === undefined || a === asset.id);
      return held.map((a) => ({ asset: a, method: `${findAsset(a)?.altname ?? a} withdrawal`, network: findAsset(a)?.code ?? a, minimum: amount(a, 0) }));
    }
    case 'GetWebSocketsToken':
      return { token: randomBytes(30).toString('base64'), expires: 900 };
    default:
      throw new KrakenError('EGeneral:Unknown method');
  }
}
