// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title DMTP registry
/// @notice Anchors DMTP's content-addressed data on chain (seeds 001–003): the CID of each
/// wallet's current key bundle, and the append-only list of manifest CIDs the server syncs
/// periodically. Anyone can read both and check a server against them.
/// @dev The public DMTP contract declared events and never emitted them; every write here emits.
contract DMTPRegistry {
    /// @notice The operator: the only account that may write.
    address public owner;

    /// Seed 003's `DMTPkeys`: wallet => CID of its current key bundle.
    mapping(address => string) private keyCids;

    /// Seeds 001/002's `cids`: every manifest CID, in order.
    string[] private cids;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event KeyAdded(address indexed user, string cid);
    event CIDStored(uint256 indexed index, string cid);

    error NotOwner(address caller);
    error ZeroAddress();
    error EmptyCid();
    error LengthMismatch(uint256 users, uint256 cids);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    /// @notice Records the CID of `user`'s current key bundle (replacing any earlier one).
    function addKey(address user, string calldata cid) external onlyOwner {
        _addKey(user, cid);
    }

    /// @notice `addKey` for many wallets in one transaction (setups arriving together).
    function addKeys(address[] calldata users, string[] calldata keyCidList) external onlyOwner {
        if (users.length != keyCidList.length) revert LengthMismatch(users.length, keyCidList.length);
        for (uint256 i = 0; i < users.length; i++) {
            _addKey(users[i], keyCidList[i]);
        }
    }

    /// @notice Appends a manifest CID.
    function storeCID(string calldata cid) external onlyOwner {
        if (bytes(cid).length == 0) revert EmptyCid();
        cids.push(cid);
        emit CIDStored(cids.length - 1, cid);
    }

    /// @notice The CID of `user`'s current key bundle, or "" when none was recorded.
    function getKey(address user) external view returns (string memory) {
        return keyCids[user];
    }

    /// @notice How many manifest CIDs are stored.
    function cidCount() external view returns (uint256) {
        return cids.length;
    }

    /// @notice The manifest CID at `index` (0-based, oldest first).
    function getCID(uint256 index) external view returns (string memory) {
        return cids[index];
    }

    /// @notice Up to `count` manifest CIDs from `start`, for reading the list in pages.
    function getCIDs(uint256 start, uint256 count) external view returns (string[] memory page) {
        uint256 end = start + count;
        if (end > cids.length) end = cids.length;
        if (start >= end) return new string[](0);
        page = new string[](end - start);
        for (uint256 i = start; i < end; i++) {
            page[i - start] = cids[i];
        }
    }

    /// @notice Hands the registry to another operator.
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function _addKey(address user, string calldata cid) private {
        if (user == address(0)) revert ZeroAddress();
        if (bytes(cid).length == 0) revert EmptyCid();
        keyCids[user] = cid;
        emit KeyAdded(user, cid);
    }
}
