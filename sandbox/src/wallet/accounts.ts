import type { WalletId } from '@scan-to-bind/shared/domain';
import type { Account } from '../core/state.ts';

/**
 * The seeded demo accounts (fixed interface): AlipayHK default 852-6123-8812 with HK$10,000.00
 * and a low-balance 852-6000-0001 with HK$5.00; DANA default 62-812-3456-4321 (PREMIUM,
 * Rp 5,000,000) and 62-812-0000-0002 (UNVERIFIED, Rp 1,000,000). Balances in minor units.
 */
export function seedAccounts(): Account[] {
  return [
    { loginId: '852-6123-8812', wallet: 'ALIPAY_HK', userId: '2160120000008812', displayName: 'Chan Tai Man', balance: 1_000_000, isDefault: true },
    { loginId: '852-6000-0001', wallet: 'ALIPAY_HK', userId: '2160120000000001', displayName: 'Lee Siu Ming', balance: 500, isDefault: false },
    {
      loginId: '62-812-3456-4321',
      wallet: 'DANA',
      userId: '2160620000004321',
      displayName: 'Budi Santoso',
      balance: 500_000_000,
      tier: 'PREMIUM',
      isDefault: true,
    },
    {
      loginId: '62-812-0000-0002',
      wallet: 'DANA',
      userId: '2160620000000002',
      displayName: 'Siti Rahayu',
      balance: 100_000_000,
      tier: 'UNVERIFIED',
      isDefault: false,
    },
  ];
}

/**
 * Masks a login id the way wallets show it: the first and last groups stay, digits in between
 * become `*` (`852-6123-8812` → `852-****-8812`).
 */
export function maskLoginId(loginId: string): string {
  const groups = loginId.split('-');
  if (groups.length < 3) return loginId.length <= 4 ? '****' : `${'*'.repeat(loginId.length - 4)}${loginId.slice(-4)}`;
  return groups.map((g, i) => (i === 0 || i === groups.length - 1 ? g : '*'.repeat(g.length))).join('-');
}

/** The default demo account of a wallet. */
export function defaultAccount(accounts: readonly Account[], wallet: WalletId): Account | undefined {
  return accounts.find((a) => a.wallet === wallet && a.isDefault) ?? accounts.find((a) => a.wallet === wallet);
}
